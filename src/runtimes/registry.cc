// The list of runtimes. Each descriptor lives in its runtime's own file; this
// list is the one line per runtime that makes it known everywhere. The order
// is the detector's: most specific first (a tie in score goes to the earlier).
// The descriptors' signals come from the runtimes' own code and docs:
// ollama/ollama llm/llama_server.go and envconfig/config.go, llama.cpp
// tools/server/README.md, the process titles vLLM and SGLang set
// (VLLM::EngineCore, sglang::scheduler), TGI launcher/src/main.rs,
// LostRuins/koboldcpp koboldcpp.py, whisper.cpp examples/server/README.md, the
// lmstudio.ai CLI and REST API v1 docs. Their confidence scale is in
// detect/signatures.cc.
#include "runtimes/registry.h"

#include <algorithm>

namespace memopt::runtimes {

#define MEMOPT_RUNTIMES(R)   \
  R(kOllamaRuntime)          \
  R(kVllmRuntime)            \
  R(kSglangRuntime)          \
  R(kTgiRuntime)             \
  R(kTensorRtLlmRuntime)     \
  R(kMlcLlmRuntime)          \
  R(kComfyUIRuntime)         \
  R(kStableDiffusionRuntime) \
  R(kA1111Runtime)           \
  R(kWhisperRuntime)         \
  R(kLmStudioRuntime)        \
  R(kLlamaCppRuntime)        \
  R(kOnnxRuntimeRuntime)     \
  R(kPyTorchRuntime)         \
  R(kDirectMlRuntime)

#define MEMOPT_DECLARE(d) extern const RuntimeDescriptor d;
MEMOPT_RUNTIMES(MEMOPT_DECLARE)
#undef MEMOPT_DECLARE

namespace {
#define MEMOPT_ADDRESS(d) &d,
const RuntimeDescriptor* const kAll[] = {MEMOPT_RUNTIMES(MEMOPT_ADDRESS)};
#undef MEMOPT_ADDRESS
}  // namespace

std::span<const RuntimeDescriptor* const> all_runtimes() { return kAll; }

const RuntimeDescriptor* find_runtime(std::string_view id_or_alias) {
  for (const RuntimeDescriptor* d : kAll) {
    if (d->id() == id_or_alias) return d;
  }
  for (const RuntimeDescriptor* d : kAll) {
    for (std::string_view a : d->aliases) {
      if (a == id_or_alias) return d;
    }
  }
  return nullptr;
}

std::vector<std::string> api_key_env_names() {
  std::vector<std::string> out;
  for (const RuntimeDescriptor* d : kAll) {
    if (!d->api_key_env.empty() &&
        std::find(out.begin(), out.end(), d->api_key_env) == out.end()) {
      out.emplace_back(d->api_key_env);
    }
  }
  return out;
}

const RuntimeDescriptor* api_runtime(std::string_view id, std::string_view flavor) {
  const RuntimeDescriptor* d = find_runtime(id);
  if (d == nullptr) return nullptr;
  for (const FlavorApi& f : d->flavor_api) {
    if (f.flavor == flavor) return find_runtime(f.api_id);
  }
  return d->has_client() ? d : nullptr;
}

Result<BaseUrl> parse_endpoint(const RuntimeDescriptor& d, std::string_view text) {
  if (d.parse_host != nullptr) return d.parse_host(text);
  return parse_base_url(text, d.api_port());
}

}  // namespace memopt::runtimes
