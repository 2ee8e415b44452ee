#include "cli/runtime_endpoints.h"

#include <cstdlib>

#include "detect/detector.h"
#include "detect/workload_detector.h"
#include "runtimes/registry.h"
#include "runtimes/probe.h"

namespace memopt::cli {

using namespace memopt::runtimes;

void add_endpoint_options(CLI::App* cmd, EndpointOptions& o) {
  cmd->add_option("--endpoint", o.endpoints,
                  "Runtime base URL to query (repeatable; the runtime is detected)");
  // One option per runtime the registry gives an API client and a flag.
  for (const RuntimeDescriptor* d : all_runtimes()) {
    if (!d->has_client() || d->cli_flag.empty()) continue;
    std::string help = std::string(d->name) + " URL (default ";
    if (!d->host_env.empty()) help += "$" + std::string(d->host_env) + " or ";
    help += "port " + std::to_string(d->api_port()) + ")";
    cmd->add_option("--" + std::string(d->cli_flag), o.by_runtime[std::string(d->id())], help);
  }
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
  for (const std::string& e : o.endpoints) {
    if (e.empty()) continue;
    auto url = parse_base_url(e, 80);
    if (!url) return url.error();
    in.explicit_endpoints.push_back(Endpoint{std::nullopt, *url, true});
  }
  for (const RuntimeDescriptor* d : all_runtimes()) {
    auto it = o.by_runtime.find(std::string(d->id()));
    if (it == o.by_runtime.end() || it->second.empty()) continue;
    auto url = parse_endpoint(*d, it->second);
    if (!url) return make_error("--" + std::string(d->cli_flag) + " " + it->second + ": " + url.error().message);
    in.explicit_endpoints.push_back(Endpoint{d->kind, *url, true});
  }
  for (const RuntimeDescriptor* d : all_runtimes()) {
    if (d->host_env.empty()) continue;
    if (const char* env = std::getenv(std::string(d->host_env).c_str()); env != nullptr) {
      in.host_env[std::string(d->host_env)] = env;
    }
  }
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
    HttpOptions keyed = http;
    if (!e.key.empty()) keyed.bearer_token = e.key;  // a server started with --api-key
    // A server the user named: the key their environment holds for its
    // runtime (LLAMA_API_KEY, VLLM_API_KEY), never sent to one found alone.
    if (keyed.bearer_token.empty() && e.explicit_) {
      keyed.bearer_token = detect::inherited_api_key({}, find_runtime(kind->id()));
    }
    auto client = make_client(*kind, e.url, keyed);
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
