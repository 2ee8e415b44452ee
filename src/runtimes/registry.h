#pragma once
// The runtime registry: one RuntimeDescriptor per AI runtime (its name, ports,
// the process signals that detect it, the HTTP probe that confirms it, its API
// client, its CLI flag and what it can do) and one list of them (registry.cc).
// Every surface derives from this list: the detector's signature rows, the
// port probe, `runtime_from_name`, the endpoint flags and their help, and the
// clients. Adding a runtime is one file that defines its descriptor and one
// line in registry.cc.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "runtimes/runtime.h"

namespace memopt::runtimes {

// How a process shows a runtime (matched by detect/detector.cc).
enum class Signal {
  kProgram,        // basename of exe / argv[0] / the script python runs == pattern (exact)
  kProgramSuffix,  // that basename ends with pattern (".llamafile")
  kCommand,        // "prog sub": program == prog and the next argument == sub
  kPythonModule,   // python -m <module> where module == pattern or starts with pattern + "."
  kScriptPath,     // a python script's path contains pattern ("/ComfyUI/")
  kPythonCwd,      // a python process whose working directory contains pattern
  kCommPrefix,     // comm or the process title starts with pattern ("VLLM::")
  kLibraryPrefix,  // a mapped shared object's basename starts with pattern
  kLibraryPath,    // a mapped shared object's path contains pattern ("/.lmstudio/")
  kExePath,        // the executable's path contains pattern ("/lib/ollama/")
};

struct SignalRule {
  Signal signal;
  std::string_view pattern;
  double confidence;          // 0..1: how sure this signal alone makes us
  std::string_view flavor{};  // names a variant of the runtime ("LM Studio"), or ""
};

// The detector's confirmation of a listening port: GET path, body contains expect.
struct HttpProbe {
  std::string_view path;
  std::string_view expect;
};

// Who owns whom when processes are grouped: a server owns its model children,
// an engine is embedded in some process, a framework is the weakest claim.
enum class RuntimeRole { kServer, kEngine, kFramework };

// A detected flavor whose API is another descriptor's (AUTOMATIC1111 and Forge
// are "stable-diffusion" to the detector and speak the a1111 API).
struct FlavorApi {
  std::string_view flavor;
  std::string_view api_id;
};

// The identification step of probe(): does the server behind `http` answer
// like this runtime? kUnreachable stops the chain (nothing listens).
enum class ProbeAnswer { kYes, kNo, kUnreachable };

struct RuntimeDescriptor {
  RuntimeKind kind{};       // stable id used in JSON and flags: "ollama", "llama.cpp", ...
  std::string_view name{};  // display name: "Ollama"
  RuntimeRole role = RuntimeRole::kServer;
  std::span<const SignalRule> rules{};
  // Where it listens unless told otherwise; the first is its API's default.
  std::span<const uint16_t> default_ports{};
  std::span<const HttpProbe> probes{};
  // Non-empty: what the Linux build cannot show of this runtime (shown there
  // only; proc::this_platform() says which build runs).
  std::string_view linux_note{};
  std::span<const FlavorApi> flavor_api{};
  std::span<const std::string_view> aliases{};  // other names users type ("llamacpp")

  // The API client; null for runtimes without an HTTP API we speak (PyTorch).
  std::unique_ptr<RuntimeClient> (*make_client)(const BaseUrl&, const HttpOptions&) = nullptr;
  ProbeAnswer (*identify)(const HttpClient&) = nullptr;
  int probe_order = 0;  // identification order: the cheapest, most specific first
  // The endpoint option ("ollama-host" -> --ollama-host URL) and, when the
  // runtime has one, the environment variable its own clients read.
  std::string_view cli_flag{};
  std::string_view host_env{};
  // The environment variable its server takes its API key from when no
  // --api-key is given (llama-server LLAMA_API_KEY, vLLM VLLM_API_KEY); ""
  // none. The flag wins over it in both. api_key_env_list: the value is a
  // comma-separated list, as llama-server reads it (vLLM: one key).
  std::string_view api_key_env{};
  bool api_key_env_list = false;
  Result<BaseUrl> (*parse_host)(std::string_view) = nullptr;  // null: parse_base_url
  Capabilities capabilities{};
  std::string_view model_facts{};  // how its models and KV figures are read (help, docs)

  std::string_view id() const { return kind.id(); }
  bool has_client() const { return make_client != nullptr; }
  int api_port() const { return default_ports.empty() ? 0 : default_ports.front(); }
};

// Every runtime, most specific first (the detector breaks ties by this order).
std::span<const RuntimeDescriptor* const> all_runtimes();
// By id or alias; null when unknown.
const RuntimeDescriptor* find_runtime(std::string_view id_or_alias);
// The descriptor whose API serves a detected workload of runtime `id` and
// `flavor` (stable-diffusion/Forge -> a1111); null when none has an API.
const RuntimeDescriptor* api_runtime(std::string_view id, std::string_view flavor);
// Every runtime's api_key_env, each once (what the process scan reads).
std::vector<std::string> api_key_env_names();
// Parses a user's text for the runtime's endpoint (its host_env rules, or a
// URL with its default port).
Result<BaseUrl> parse_endpoint(const RuntimeDescriptor& d, std::string_view text);

}  // namespace memopt::runtimes
