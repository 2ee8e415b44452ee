#include "runtimes/probe.h"

#include <algorithm>

#include "runtimes/json_util.h"
#include "runtimes/registry.h"

namespace memopt::runtimes {

Result<RuntimeKind> probe(const BaseUrl& base, const HttpOptions& options) {
  HttpClient http(base, options);
  std::vector<const RuntimeDescriptor*> chain;
  for (const RuntimeDescriptor* d : all_runtimes()) {
    if (d->identify != nullptr) chain.push_back(d);
  }
  std::stable_sort(chain.begin(), chain.end(), [](const auto* a, const auto* b) {
    return a->probe_order < b->probe_order;
  });
  std::string names;
  for (const RuntimeDescriptor* d : chain) {
    switch (d->identify(http)) {
      case ProbeAnswer::kYes: return d->kind;
      case ProbeAnswer::kUnreachable: {
        // Nothing listens: say why, with the transport's own message.
        auto r = http.get("/");
        if (!r) return r.error();
        break;
      }
      case ProbeAnswer::kNo: break;
    }
    names += (names.empty() ? "" : ", ") + std::string(d->name);
  }
  return make_error(base.str() + ": answers HTTP but is not " + names +
                    " (no known API answered); name the runtime explicitly, e.g. --vllm " +
                    base.str());
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
        if (have.key.empty()) have.key = e.key;
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
  for (const RuntimeDescriptor* d : all_runtimes()) {
    if (!d->has_client()) continue;
    // A runtime's own host variable (OLLAMA_HOST) replaces its default port.
    auto env = d->host_env.empty() ? input.host_env.end()
                                   : input.host_env.find(std::string(d->host_env));
    if (env != input.host_env.end() && !env->second.empty()) {
      auto h = parse_endpoint(*d, env->second);
      if (!h) return make_error(std::string(d->host_env) + "=" + env->second + ": " + h.error().message);
      add(Endpoint{d->kind, *h, false});
      continue;
    }
    add(Endpoint{d->kind, BaseUrl{"http", "127.0.0.1", d->api_port()}, false});
  }
  return out;
}

}  // namespace memopt::runtimes
