#include "runtimes/tgi.h"
#include "runtimes/registry.h"

#include "runtimes/json_util.h"
#include "runtimes/metrics_fetch.h"

namespace memopt::runtimes {

using jsonu::json;

Result<TgiInfo> parse_tgi_info(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  TgiInfo t;
  t.model_id = jsonu::str(*j, "model_id");
  if (t.model_id.empty()) return make_error(where + ": no \"model_id\"; is this TGI's /info?");
  t.version = jsonu::str(*j, "version");
  t.router = jsonu::str(*j, "router");
  t.max_total_tokens = jsonu::u64(*j, "max_total_tokens");
  t.max_batch_total_tokens = jsonu::u64(*j, "max_batch_total_tokens");
  return t;
}

Result<TgiInfo> TgiClient::tgi_info() const {
  const std::string url = http_.url("/info");
  auto r = http_.get("/info");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_tgi_info(r->body, "GET " + url);
}

Result<RuntimeInfo> TgiClient::info() const {
  auto t = tgi_info();
  if (!t) return t.error();
  RuntimeInfo info{kind(), base_url(), t->version, true, "ok"};
  if (auto h = http_.get("/health"); h && h->status != 200) {
    info.ready = false;
    info.status = "unhealthy (HTTP " + std::to_string(h->status) + ")";
  }
  return info;
}

Result<std::vector<LoadedModel>> TgiClient::loaded_models() const {
  auto t = tgi_info();
  if (!t) return t.error();
  LoadedModel lm;
  lm.runtime = kind();
  lm.endpoint = base_url();
  lm.name = t->model_id;
  lm.context_tokens = t->max_total_tokens;
  lm.unload_supported = false;
  lm.unload_note = "TGI has no API to free memory: stop or scale down its container";
  if (t->max_batch_total_tokens) {
    lm.kv.capacity_tokens = Figure<uint64_t>::measured(*t->max_batch_total_tokens);
    lm.kv.basis = "capacity: /info max_batch_total_tokens";
  }
  auto page = fetch_metrics(http_, "/metrics");
  if (!page) return page.error();
  if (page->has_value()) {
    const MetricsPage& p = **page;
    if (auto v = p.sum("tgi_queue_size"); v && *v >= 0) lm.requests_waiting = static_cast<uint64_t>(*v);
    if (auto v = p.sum("tgi_batch_current_size"); v && *v >= 0) lm.requests_running = static_cast<uint64_t>(*v);
    // tgi_batch_current_max_tokens is the running batch's token budget, only a
    // proxy for KV use (§0), hence estimated.
    if (auto v = p.sum("tgi_batch_current_max_tokens"); v && *v >= 0) {
      lm.kv.used_tokens = Figure<uint64_t>::estimated(static_cast<uint64_t>(*v));
      lm.kv.basis += "; used: tgi_batch_current_max_tokens (upper bound)";
    }
  }
  lm.kv.complete(std::nullopt);
  return std::vector<LoadedModel>{std::move(lm)};
}

}  // namespace memopt::runtimes

// The registry's entry for Hugging Face TGI: launcher, router and shards,
// port 3000 (80 in its container), /info and /metrics; no unload.
namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kProgram, "text-generation-launcher", 0.95},
    {S::kProgram, "text-generation-router", 0.95},
    {S::kCommand, "text-generation-server serve", 0.95},  // the Python shards
};
constexpr uint16_t kPorts[] = {3000, 80};
constexpr HttpProbe kProbes[] = {{"/info", "\"model_id\""}};

ProbeAnswer identify(const HttpClient& http) {
  auto i = jsonu::probe_json(http, "/info");
  return i && jsonu::str(*i, "router") == "text-generation-router" ? ProbeAnswer::kYes
                                                                   : ProbeAnswer::kNo;
}

std::unique_ptr<RuntimeClient> make(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<TgiClient>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kTgiRuntime{
    .kind = RuntimeKind::kTgi,
    .name = "TGI",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .make_client = make,
    .identify = identify,
    .probe_order = 4,
    .cli_flag = "tgi",
    .model_facts = "GET /info (max_total_tokens), /metrics (queue, batch)",
};

}  // namespace memopt::runtimes
