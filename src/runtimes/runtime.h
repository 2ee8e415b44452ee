#pragma once
// RuntimeClient: one interface over every inference runtime's HTTP API
// (Ollama, llama.cpp server, vLLM, SGLang, TGI, ComfyUI, AUTOMATIC1111), in
// the shape of nvtop's per-vendor backends: one file per runtime, one
// registration line in registry.cc. Clients only read, except the explicit
// actions (unload, preload, reload), which are the actuator.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/http.h"
#include "runtimes/kv_cache.h"
#include "util/result.h"

namespace memopt::runtimes {

// Which runtime: the id of its descriptor in the registry (registry.h).
// A value type compared by id; the constants name the runtimes that code
// elsewhere has to single out (Ollama's /api/show, ...). A new runtime needs
// no constant here: its descriptor's kind is RuntimeKind{"its-id"}.
class RuntimeKind {
 public:
  constexpr RuntimeKind() = default;
  constexpr explicit RuntimeKind(std::string_view id) : id_(id) {}
  constexpr std::string_view id() const { return id_; }
  friend constexpr bool operator==(RuntimeKind a, RuntimeKind b) { return a.id_ == b.id_; }
  friend constexpr auto operator<=>(RuntimeKind a, RuntimeKind b) { return a.id_ <=> b.id_; }

  static const RuntimeKind kOllama, kLlamaCpp, kVllm, kSglang, kTgi, kComfyUI, kA1111;

 private:
  std::string_view id_;
};
inline constexpr RuntimeKind RuntimeKind::kOllama{"ollama"};
inline constexpr RuntimeKind RuntimeKind::kLlamaCpp{"llama.cpp"};
inline constexpr RuntimeKind RuntimeKind::kVllm{"vllm"};
inline constexpr RuntimeKind RuntimeKind::kSglang{"sglang"};
inline constexpr RuntimeKind RuntimeKind::kTgi{"tgi"};
inline constexpr RuntimeKind RuntimeKind::kComfyUI{"comfyui"};
inline constexpr RuntimeKind RuntimeKind::kA1111{"a1111"};

// The id ("ollama", "llama.cpp", ...), or "unknown" for an empty kind.
std::string_view runtime_name(RuntimeKind kind);
// By id or alias, only for runtimes with an API client.
std::optional<RuntimeKind> runtime_from_name(std::string_view name);
// The port the runtime's API listens on unless told otherwise.
int default_port(RuntimeKind kind);
// Every runtime with an API client, in the registry's order.
std::vector<RuntimeKind> all_runtime_kinds();

struct RuntimeInfo {
  RuntimeKind kind;
  std::string base_url;
  std::string version;  // empty when the runtime does not say
  bool ready = true;    // false: answering but loading / dead engine
  std::string status;   // e.g. "ok", "loading model", "sleeping"
};

// One model held in memory by a runtime.
struct LoadedModel {
  RuntimeKind runtime;
  std::string endpoint;  // base URL
  std::string name;      // as the runtime names it (what unload takes)
  std::string state = "loaded";  // loaded | loading | sleeping | unloaded | failed
  std::optional<uint64_t> size_bytes;  // total memory held (Ollama: weights+KV+graph)
  std::optional<uint64_t> vram_bytes;  // the part on GPUs, when the runtime says
  std::optional<uint64_t> context_tokens;  // per sequence
  std::optional<uint64_t> parallel;        // sequences (slots)
  std::string expires_at;  // RFC3339, Ollama only; empty otherwise
  std::string model_path;  // GGUF path when the runtime reports it
  std::string digest;      // Ollama manifest digest
  // False where the runtime has no way to free this model short of stopping
  // it (single-model llama-server, TGI); unload_note says what to do instead.
  bool unload_supported = true;
  std::string unload_note;
  std::optional<uint64_t> requests_running;  // from metrics or slots
  std::optional<uint64_t> requests_waiting;
  KVCacheMetrics kv;
  // Layers the planner counts (repeating + output), where the runtime says
  // (Ollama /api/show); 0 unknown.
  uint32_t n_layers = 0;
  // Tracked across readings by the snapshot assembler, not reported by the
  // runtime: seconds since the last sign of use (a request running, Ollama's
  // expiry moving), and the highest KV use seen while loaded.
  std::optional<double> idle_seconds;
  uint64_t kv_peak_bytes = 0;
};

struct PreloadOptions {
  std::string keep_alive;          // Go duration or seconds, e.g. "30m", "-1"; empty: runtime default
  std::optional<int> num_gpu;      // Ollama: layers on GPU
  std::optional<int> num_ctx;      // Ollama: context per sequence
  std::optional<bool> numa;        // Ollama: the profile's numa_aware
};

// What an action can do on this runtime, so commands can say "not supported
// by <runtime>" before trying.
struct Capabilities {
  bool unload = false;   // frees a model's memory without killing the server
  bool preload = false;  // loads a model ahead of use
  bool reload = false;   // unload + load with changed options (layers, context: vram defrag)
  bool sleep = false;    // "unload" keeps the process and frees its GPU memory (vLLM, SGLang)
  bool free_caches = false;  // "unload" frees the runtime's caches, not a model (ComfyUI)
};

class RuntimeClient {
 public:
  virtual ~RuntimeClient() = default;
  virtual RuntimeKind kind() const = 0;
  std::string_view name() const { return runtime_name(kind()); }
  const std::string& base_url() const { return base_url_str_; }
  // What the registry says this runtime can do (registry.h).
  Capabilities capabilities() const;

  // Version and readiness; an error when nothing (or something else) answers.
  virtual Result<RuntimeInfo> info() const = 0;
  virtual Result<std::vector<LoadedModel>> loaded_models() const = 0;

  // Frees the model's memory. Returns once the runtime accepted the request;
  // the memory may come back later (verify with loaded_models()).
  virtual Status unload(const std::string& model) const;
  virtual Status preload(const std::string& model, const PreloadOptions& options) const;

 protected:
  explicit RuntimeClient(HttpClient http)
      : http_(std::move(http)), base_url_str_(http_.base().str()) {}
  Error not_supported(std::string_view action) const;
  HttpClient http_;

 private:
  std::string base_url_str_;
};

// A client for `kind` at `base`; null for a runtime without an API client.
std::unique_ptr<RuntimeClient> make_client(RuntimeKind kind, const BaseUrl& base,
                                           const HttpOptions& options = {});

}  // namespace memopt::runtimes
