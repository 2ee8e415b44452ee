#include "cli/runtime_endpoints.h"

#include <cstdlib>

#include "detect/system_sources.h"
#include "runtimes/probe.h"

namespace memopt::cli {

using namespace memopt::runtimes;

void add_endpoint_options(CLI::App* cmd, EndpointOptions& o) {
  cmd->add_option("--endpoint", o.endpoints,
                  "Runtime base URL to query (repeatable; the runtime is detected)");
  cmd->add_option("--ollama-host", o.ollama_host, "Ollama URL (default: $OLLAMA_HOST or :11434)");
  cmd->add_option("--llamacpp", o.llamacpp, "llama.cpp server URL (default port 8080)");
  cmd->add_option("--vllm", o.vllm, "vLLM server URL (default port 8000)");
  cmd->add_option("--sglang", o.sglang, "SGLang server URL (default port 30000)");
  cmd->add_option("--tgi", o.tgi, "TGI server URL (default port 3000)");
  cmd->add_option("--comfyui", o.comfyui, "ComfyUI URL (default port 8188)");
  cmd->add_option("--a1111", o.a1111, "AUTOMATIC1111 URL (default port 7860)");
  cmd->add_option("--timeout-ms", o.timeout_ms, "Per-request read timeout in ms")
      ->check(CLI::Range(50, 600000))
      ->capture_default_str();
}

HttpOptions http_options(const EndpointOptions& o) {
  HttpOptions h;
  h.read_timeout = std::chrono::milliseconds(o.timeout_ms);
  h.total_timeout = std::chrono::milliseconds(o.timeout_ms + o.timeout_ms / 4);
  h.connect_timeout = std::chrono::milliseconds(std::min(o.timeout_ms, 500));
  return h;
}

Result<ConnectedRuntimes> connect_runtimes(const EndpointOptions& o, const std::string& proc_root) {
  DiscoveryInput in;
  auto add = [&](const std::string& text, std::optional<RuntimeKind> kind) -> Status {
    if (text.empty()) return Ok{};
    int port = kind ? default_port(*kind) : 80;
    auto url = kind == RuntimeKind::kOllama ? parse_ollama_host(text) : parse_base_url(text, port);
    if (!url) return url.error();
    in.explicit_endpoints.push_back(Endpoint{kind, *url, true});
    return Ok{};
  };
  for (const std::string& e : o.endpoints) {
    if (auto s = add(e, std::nullopt); !s) return s.error();
  }
  const std::pair<const std::string*, RuntimeKind> named[] = {
      {&o.ollama_host, RuntimeKind::kOllama}, {&o.llamacpp, RuntimeKind::kLlamaCpp},
      {&o.vllm, RuntimeKind::kVllm},          {&o.sglang, RuntimeKind::kSglang},
      {&o.tgi, RuntimeKind::kTgi},            {&o.comfyui, RuntimeKind::kComfyUI},
      {&o.a1111, RuntimeKind::kA1111}};
  for (const auto& [text, kind] : named) {
    if (auto s = add(*text, kind); !s) return s.error();
  }
  if (const char* env = std::getenv("OLLAMA_HOST"); env != nullptr) in.ollama_host_env = env;
  // Only without explicit endpoints: naming one means "that runtime only".
  if (in.explicit_endpoints.empty()) in.detected = detect::detected_runtime_endpoints(proc_root);
  auto endpoints = discover_endpoints(in);
  if (!endpoints) return endpoints.error();

  HttpOptions http = http_options(o);
  ConnectedRuntimes out;
  for (const Endpoint& e : *endpoints) {
    std::optional<RuntimeKind> kind = e.kind;
    if (!kind) {
      auto k = probe(e.url, http);
      if (!k) {
        out.problems.push_back(k.error().message);
        continue;
      }
      kind = *k;
    }
    auto client = make_client(*kind, e.url, http);
    auto info = client->info();
    if (!info) {
      // On a default port, nothing listening means the runtime is not running,
      // and another program answering is none of our business: complain only
      // when the probe says it really is that runtime.
      bool silent = false;
      if (!e.explicit_) {
        auto k = probe(e.url, http);
        silent = !k || *k != *kind;
      }
      if (!silent) {
        out.problems.push_back(std::string(runtime_name(*kind)) + ": " + info.error().message);
      }
      continue;
    }
    out.infos.push_back(*info);
    out.clients.push_back(std::move(client));
  }
  return out;
}

}  // namespace memopt::cli
