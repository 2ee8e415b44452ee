#include "runtimes/probe.h"

#include "runtimes/json_util.h"

namespace memopt::runtimes {

using jsonu::json;

namespace {

std::optional<json> get_json(const HttpClient& http, const char* path, Error* transport) {
  auto r = http.get(path);
  if (!r) {
    if (transport != nullptr) *transport = r.error();
    return std::nullopt;
  }
  if (r->status != 200) return std::nullopt;
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace

Result<RuntimeKind> probe(const BaseUrl& base, const HttpOptions& options) {
  HttpClient http(base, options);
  Error transport{};
  // Ollama: {"version": "..."} and nothing else.
  auto v = get_json(http, "/api/version", &transport);
  if (!transport.message.empty()) return transport;  // nothing listens: stop at once
  if (v && v->is_object() && v->size() == 1 && v->contains("version")) return RuntimeKind::kOllama;
  if (auto p = get_json(http, "/props", nullptr);
      p && p->is_object() &&
      (p->contains("default_generation_settings") || jsonu::str(*p, "role") == "router")) {
    return RuntimeKind::kLlamaCpp;
  }
  if (auto m = get_json(http, "/v1/models", nullptr)) {
    if (const json* data = jsonu::arr(*m, "data"); data && !data->empty()) {
      std::string owner = jsonu::str((*data)[0], "owned_by");
      if (owner == "vllm") return RuntimeKind::kVllm;
      if (owner == "sglang") return RuntimeKind::kSglang;
      if (owner == "llamacpp") return RuntimeKind::kLlamaCpp;
    }
  }
  if (auto i = get_json(http, "/info", nullptr);
      i && jsonu::str(*i, "router") == "text-generation-router") {
    return RuntimeKind::kTgi;
  }
  for (const char* path : {"/server_info", "/get_server_info"}) {
    if (auto s = get_json(http, path, nullptr); s && jsonu::arr(*s, "internal_states")) {
      return RuntimeKind::kSglang;
    }
  }
  if (auto s = get_json(http, "/system_stats", nullptr); s && jsonu::arr(*s, "devices")) {
    return RuntimeKind::kComfyUI;
  }
  if (auto o = get_json(http, "/sdapi/v1/options", nullptr);
      o && o->is_object() && o->contains("sd_model_checkpoint")) {
    return RuntimeKind::kA1111;
  }
  return make_error(base.str() +
                    ": answers HTTP but is not Ollama, llama.cpp, vLLM, SGLang, TGI, ComfyUI "
                    "or AUTOMATIC1111 (no known API answered); name the runtime explicitly, "
                    "e.g. --vllm " + base.str());
}

Result<RuntimeKind> probe(std::string_view url, const HttpOptions& options) {
  auto base = parse_base_url(url, 80);
  if (!base) return base.error();
  return probe(*base, options);
}

Result<std::vector<Endpoint>> discover_endpoints(const DiscoveryInput& input) {
  std::vector<Endpoint> out;
  auto add = [&out](Endpoint e) {
    for (Endpoint& have : out) {
      if (have.url.str() == e.url.str()) {
        if (!have.kind) have.kind = e.kind;
        have.explicit_ = have.explicit_ || e.explicit_;
        return;
      }
    }
    out.push_back(std::move(e));
  };
  if (!input.explicit_endpoints.empty()) {
    for (Endpoint e : input.explicit_endpoints) {
      e.explicit_ = true;
      add(std::move(e));
    }
    return out;
  }
  for (const Endpoint& e : input.detected) add(e);
  if (input.ollama_host_env && !input.ollama_host_env->empty()) {
    auto h = parse_ollama_host(*input.ollama_host_env);
    if (!h) return h.error();
    add(Endpoint{RuntimeKind::kOllama, *h, false});
  }
  for (RuntimeKind k : all_runtime_kinds()) {
    // Ollama's default is covered by OLLAMA_HOST when that is set.
    if (k == RuntimeKind::kOllama && input.ollama_host_env && !input.ollama_host_env->empty()) {
      continue;
    }
    add(Endpoint{k, BaseUrl{"http", "127.0.0.1", default_port(k)}, false});
  }
  return out;
}

}  // namespace memopt::runtimes
