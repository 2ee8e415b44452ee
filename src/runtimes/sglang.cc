#include "runtimes/sglang.h"
#include "runtimes/registry.h"

#include <cmath>

#include "runtimes/json_util.h"
#include "runtimes/metrics_fetch.h"

namespace memopt::runtimes {

using jsonu::json;

namespace {
std::optional<uint64_t> gib_to_bytes(std::optional<double> gib) {
  // SGLang reports memory_usage in GB computed as bytes / (1 << 30).
  if (!gib || !std::isfinite(*gib) || *gib < 0 || *gib > 1e9) return std::nullopt;
  return static_cast<uint64_t>(std::llround(*gib * static_cast<double>(1ULL << 30)));
}
void add(std::optional<uint64_t>& total, std::optional<uint64_t> v) {
  if (v) total = total.value_or(0) + *v;
}
}  // namespace

Result<SglangServerInfo> parse_sglang_server_info(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  if (!j->is_object()) return make_error(where + ": expected a JSON object");
  SglangServerInfo si;
  si.version = jsonu::str(*j, "version");
  si.model_path = jsonu::str(*j, "model_path");
  si.status = jsonu::str(*j, "status");
  si.max_total_num_tokens = jsonu::u64(*j, "max_total_num_tokens");
  si.context_length = jsonu::u64(*j, "context_length");
  si.memory_saver = jsonu::boolean(*j, "enable_memory_saver");
  if (const json* states = jsonu::arr(*j, "internal_states")) {
    for (const json& st : *states) {
      const json* mu = jsonu::obj(st, "memory_usage");
      if (mu == nullptr) continue;
      add(si.weight_bytes, gib_to_bytes(jsonu::num(*mu, "weight")));
      add(si.kvcache_bytes, gib_to_bytes(jsonu::num(*mu, "kvcache")));
      // "graph" in current builds, "cuda_graph" in some 2025 ones.
      auto graph = jsonu::num(*mu, "graph");
      if (!graph) graph = jsonu::num(*mu, "cuda_graph");
      add(si.graph_bytes, gib_to_bytes(graph));
    }
  }
  return si;
}

KVCacheMetrics sglang_kv(const SglangServerInfo* info, const MetricsPage* page) {
  KVCacheMetrics kv;
  if (info != nullptr) {
    if (info->max_total_num_tokens) {
      kv.capacity_tokens = Figure<uint64_t>::measured(*info->max_total_num_tokens);
      kv.basis = "capacity: /server_info max_total_num_tokens";
    }
    if (info->kvcache_bytes) kv.capacity_bytes = Figure<uint64_t>::measured(*info->kvcache_bytes);
  }
  if (page != nullptr) {
    if (!kv.capacity_tokens.known()) {
      if (auto c = page->sum("sglang:max_total_num_tokens"); c && *c >= 0) {
        kv.capacity_tokens = Figure<uint64_t>::measured(static_cast<uint64_t>(*c));
        kv.basis = "capacity: sglang:max_total_num_tokens";
      }
    }
    if (auto u = page->sum("sglang:num_used_tokens"); u && *u >= 0) {
      kv.used_tokens = Figure<uint64_t>::measured(static_cast<uint64_t>(*u));
      kv.basis += "; used: sglang:num_used_tokens (excludes evictable radix cache)";
    }
    if (auto r = page->max("sglang:token_usage"); r && *r >= 0) {
      kv.usage_ratio = Figure<double>::measured(*r);
    }
  }
  if (kv.capacity_bytes.known() && kv.used_tokens.known() && kv.capacity_tokens.known() &&
      *kv.capacity_tokens.value > 0) {
    // Pool bytes × fraction of tokens in use.
    double frac = std::min(1.0, static_cast<double>(*kv.used_tokens.value) /
                                    static_cast<double>(*kv.capacity_tokens.value));
    kv.used_bytes = Figure<uint64_t>::estimated(
        static_cast<uint64_t>(frac * static_cast<double>(*kv.capacity_bytes.value)));
  }
  kv.complete(std::nullopt);
  return kv;
}

Result<SglangServerInfo> SglangClient::server_info() const {
  // /get_server_info is the pre-2026 name.
  for (const char* path : {"/server_info", "/get_server_info"}) {
    auto r = http_.get(path);
    if (!r) return r.error();
    if (r->status == 404 && std::string_view(path) == "/server_info") continue;
    if (r->status != 200) return http_status_error("GET", http_.url(path), *r);
    return parse_sglang_server_info(r->body, "GET " + http_.url(path));
  }
  return make_error("GET " + http_.url("/get_server_info") + ": not found");
}

Result<RuntimeInfo> SglangClient::info() const {
  auto si = server_info();
  if (!si) return si.error();
  return RuntimeInfo{kind(), base_url(), si->version, si->status.empty() || si->status == "ready",
                     si->status.empty() ? "ok" : si->status};
}

Result<std::vector<LoadedModel>> SglangClient::loaded_models() const {
  auto si = server_info();
  if (!si) return si.error();
  auto page = fetch_metrics(http_, "/metrics");
  if (!page) return page.error();
  const MetricsPage* p = page->has_value() ? &**page : nullptr;
  LoadedModel lm;
  lm.runtime = kind();
  lm.endpoint = base_url();
  lm.name = si->model_path;
  lm.context_tokens = si->context_length;
  if (si->weight_bytes || si->kvcache_bytes || si->graph_bytes) {
    lm.vram_bytes = si->weight_bytes.value_or(0) + si->kvcache_bytes.value_or(0) +
                    si->graph_bytes.value_or(0);
    lm.size_bytes = lm.vram_bytes;
  }
  lm.kv = sglang_kv(&*si, p);
  if (p != nullptr) {
    if (auto v = p->sum("sglang:num_running_reqs"); v && *v >= 0) lm.requests_running = static_cast<uint64_t>(*v);
    if (auto v = p->sum("sglang:num_queue_reqs"); v && *v >= 0) lm.requests_waiting = static_cast<uint64_t>(*v);
  }
  return std::vector<LoadedModel>{std::move(lm)};
}

namespace {
Status post_ok(const HttpClient& http, const char* path, const std::string& body) {
  auto r = http.post(path, body);
  if (!r) return r.error();
  if (r->status < 200 || r->status >= 300) return http_status_error("POST", http.url(path), *r);
  return Ok{};
}
}  // namespace

Status SglangClient::unload(const std::string& model) const {
  auto si = server_info();
  if (!si) return si.error();
  if (!model.empty() && model != si->model_path) {
    return make_error("sglang at " + base_url() + " serves '" + si->model_path + "', not '" +
                      model + "'");
  }
  if (si->memory_saver.has_value() && !*si->memory_saver) {
    return make_error("not supported by sglang at " + base_url() +
                      ": memory release needs the server started with --enable-memory-saver");
  }
  // Releasing while requests run has aborted the engine (0.5.19 report), so
  // generation is paused first (§4.1).
  if (auto s = post_ok(http_, "/pause_generation", "{}"); !s) return s;
  auto s = post_ok(http_, "/release_memory_occupation", "{}");
  if (!s) {
    (void)post_ok(http_, "/continue_generation", "{}");
    return s;
  }
  return Ok{};
}

Status SglangClient::preload(const std::string& model, const PreloadOptions& options) const {
  if (!options.keep_alive.empty() || options.num_ctx || options.num_gpu) {
    return make_error("not supported by sglang at " + base_url() +
                      ": keep-alive, context and GPU layers are SGLang start-up flags");
  }
  auto si = server_info();
  if (!si) return si.error();
  if (!model.empty() && model != si->model_path) {
    return make_error("sglang at " + base_url() + " serves '" + si->model_path + "', not '" +
                      model + "'");
  }
  if (auto s = post_ok(http_, "/resume_memory_occupation", "{}"); !s) return s;
  return post_ok(http_, "/continue_generation", "{}");
}

}  // namespace memopt::runtimes

// The registry's entry for SGLang: its scheduler processes, port 30000,
// /get_model_info and /metrics; memory saver release for freeing GPU memory.
namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kCommPrefix, "sglang::", 0.95},  // sglang::scheduler_TP0, sglang::detokenizer
    {S::kPythonModule, "sglang.launch_server", 0.95},
    {S::kCommand, "sglang serve", 0.95},
    {S::kLibraryPath, "/sgl_kernel/", 0.85},
};
constexpr uint16_t kPorts[] = {30000};
constexpr HttpProbe kProbes[] = {{"/get_model_info", "\"model_path\""}};

ProbeAnswer identify(const HttpClient& http) {
  if (jsonu::first_model_owner(http) == "sglang") return ProbeAnswer::kYes;
  for (const char* path : {"/server_info", "/get_server_info"}) {
    if (auto s = jsonu::probe_json(http, path); s && jsonu::arr(*s, "internal_states")) {
      return ProbeAnswer::kYes;
    }
  }
  return ProbeAnswer::kNo;
}

std::unique_ptr<RuntimeClient> make(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<SglangClient>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kSglangRuntime{
    .kind = RuntimeKind::kSglang,
    .name = "SGLang",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .make_client = make,
    .identify = identify,
    .probe_order = 3,
    .cli_flag = "sglang",
    .capabilities = {.unload = true, .preload = true, .sleep = true},
    .model_facts = "GET /get_model_info, /server_info (max_total_num_tokens), /metrics (token usage)",
};

}  // namespace memopt::runtimes
