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

enum class RuntimeKind { kOllama, kLlamaCpp, kVllm, kSglang, kTgi, kComfyUI, kA1111 };
// "ollama", "llama.cpp", "vllm", "sglang", "tgi", "comfyui", "a1111".
std::string_view runtime_name(RuntimeKind kind);
std::optional<RuntimeKind> runtime_from_name(std::string_view name);
// The port the runtime listens on unless told otherwise (runtime-apis.md §0).
int default_port(RuntimeKind kind);
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
};

struct PreloadOptions {
  std::string keep_alive;          // Go duration or seconds, e.g. "30m", "-1"; empty: runtime default
  std::optional<int> num_gpu;      // Ollama: layers on GPU
  std::optional<int> num_ctx;      // Ollama: context per sequence
};

// What an action can do on this runtime, so commands can say "not supported
// by <runtime>" before trying.
struct Capabilities {
  bool unload = false;   // frees a model's memory without killing the server
  bool preload = false;  // loads a model ahead of use
  bool reload = false;   // unload + load with changed options (vram defrag)
};

class RuntimeClient {
 public:
  virtual ~RuntimeClient() = default;
  virtual RuntimeKind kind() const = 0;
  std::string_view name() const { return runtime_name(kind()); }
  const std::string& base_url() const { return base_url_str_; }
  virtual Capabilities capabilities() const { return {}; }

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

// A client for `kind` at `base`. Never null.
std::unique_ptr<RuntimeClient> make_client(RuntimeKind kind, const BaseUrl& base,
                                           const HttpOptions& options = {});

}  // namespace memopt::runtimes
