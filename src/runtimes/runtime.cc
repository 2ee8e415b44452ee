#include "runtimes/runtime.h"

#include "runtimes/image_gen.h"
#include "runtimes/llamacpp.h"
#include "runtimes/ollama.h"
#include "runtimes/sglang.h"
#include "runtimes/tgi.h"
#include "runtimes/vllm.h"

namespace memopt::runtimes {
namespace {

struct KindEntry {
  RuntimeKind kind;
  std::string_view name;
  int port;  // runtime-apis.md §0; ComfyUI and A1111 from their launchers
};

// The registration table: adding a runtime is one line here and one file.
constexpr KindEntry kKinds[] = {
    {RuntimeKind::kOllama, "ollama", 11434},   {RuntimeKind::kLlamaCpp, "llama.cpp", 8080},
    {RuntimeKind::kVllm, "vllm", 8000},        {RuntimeKind::kSglang, "sglang", 30000},
    {RuntimeKind::kTgi, "tgi", 3000},          {RuntimeKind::kComfyUI, "comfyui", 8188},
    {RuntimeKind::kA1111, "a1111", 7860},
};

}  // namespace

std::string_view runtime_name(RuntimeKind kind) {
  for (const KindEntry& e : kKinds) {
    if (e.kind == kind) return e.name;
  }
  return "unknown";
}

std::optional<RuntimeKind> runtime_from_name(std::string_view name) {
  for (const KindEntry& e : kKinds) {
    if (e.name == name) return e.kind;
  }
  if (name == "llamacpp" || name == "llama-server") return RuntimeKind::kLlamaCpp;
  return std::nullopt;
}

int default_port(RuntimeKind kind) {
  for (const KindEntry& e : kKinds) {
    if (e.kind == kind) return e.port;
  }
  return 0;
}

std::vector<RuntimeKind> all_runtime_kinds() {
  std::vector<RuntimeKind> out;
  for (const KindEntry& e : kKinds) out.push_back(e.kind);
  return out;
}

Error RuntimeClient::not_supported(std::string_view action) const {
  return make_error(std::string(action) + " is not supported by " + std::string(name()) + " (" +
                    base_url() + ")");
}

Status RuntimeClient::unload(const std::string&) const { return not_supported("unload"); }

Status RuntimeClient::preload(const std::string&, const PreloadOptions&) const {
  return not_supported("preload");
}

std::unique_ptr<RuntimeClient> make_client(RuntimeKind kind, const BaseUrl& base,
                                           const HttpOptions& options) {
  switch (kind) {
    case RuntimeKind::kOllama: return std::make_unique<OllamaClient>(base, options);
    case RuntimeKind::kLlamaCpp: return std::make_unique<LlamaCppClient>(base, options);
    case RuntimeKind::kVllm: return std::make_unique<VllmClient>(base, options);
    case RuntimeKind::kSglang: return std::make_unique<SglangClient>(base, options);
    case RuntimeKind::kTgi: return std::make_unique<TgiClient>(base, options);
    case RuntimeKind::kComfyUI: return std::make_unique<ComfyUIClient>(base, options);
    case RuntimeKind::kA1111: return std::make_unique<A1111Client>(base, options);
  }
  return std::make_unique<OllamaClient>(base, options);
}

}  // namespace memopt::runtimes
