#include "runtimes/llamacpp.h"
#include "runtimes/registry.h"

#include "runtimes/json_util.h"
#include "runtimes/metrics_fetch.h"

namespace memopt::runtimes {

using jsonu::json;

Result<LlamaCppProps> parse_llamacpp_props(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  if (!j->is_object()) return make_error(where + ": expected a JSON object from /props");
  LlamaCppProps p;
  p.router = jsonu::str(*j, "role") == "router";
  p.build_info = jsonu::str(*j, "build_info");
  p.model_path = jsonu::str(*j, "model_path");
  if (const json* d = jsonu::obj(*j, "default_generation_settings")) p.n_ctx = jsonu::u64(*d, "n_ctx");
  p.total_slots = jsonu::u64(*j, "total_slots");
  p.is_sleeping = jsonu::boolean(*j, "is_sleeping");
  return p;
}

Result<std::vector<LlamaCppSlot>> parse_llamacpp_slots(std::string_view body,
                                                       const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  if (!j->is_array()) return make_error(where + ": expected a JSON array of slots");
  std::vector<LlamaCppSlot> out;
  for (const json& s : *j) {
    if (!s.is_object()) continue;
    LlamaCppSlot slot;
    slot.id = jsonu::u64(s, "id").value_or(out.size());
    slot.n_ctx = jsonu::u64(s, "n_ctx");
    slot.is_processing = jsonu::boolean(s, "is_processing").value_or(false);
    // next_token is an object in most builds, a one-element array in some 2026 ones.
    const json* next = nullptr;
    if (auto it = s.find("next_token"); it != s.end()) {
      if (it->is_object()) next = &*it;
      if (it->is_array() && !it->empty() && (*it)[0].is_object()) next = &(*it)[0];
    }
    auto prompt = jsonu::u64(s, "n_prompt_tokens");
    auto decoded = next ? jsonu::u64(*next, "n_decoded") : std::nullopt;
    if (!prompt) prompt = jsonu::u64(s, "n_past");  // 2024 builds
    if (prompt || decoded) slot.tokens_in_use = prompt.value_or(0) + decoded.value_or(0);
    out.push_back(slot);
  }
  return out;
}

Result<std::vector<LlamaCppRouterModel>> parse_llamacpp_router_models(std::string_view body,
                                                                      const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* data = jsonu::arr(*j, "data");
  if (data == nullptr) return make_error(where + ": no \"data\" array in the model list");
  std::vector<LlamaCppRouterModel> out;
  for (const json& m : *data) {
    LlamaCppRouterModel rm;
    rm.id = jsonu::str(m, "id");
    if (rm.id.empty()) continue;
    rm.path = jsonu::str(m, "path");
    if (const json* st = jsonu::obj(m, "status")) {
      rm.status = jsonu::str(*st, "value");
      rm.failed = jsonu::boolean(*st, "failed").value_or(false);
    }
    out.push_back(std::move(rm));
  }
  return out;
}

KVCacheMetrics llamacpp_kv(const LlamaCppProps& props, const std::vector<LlamaCppSlot>& slots,
                           const MetricsPage* metrics) {
  KVCacheMetrics kv;
  // Capacity (§2.4): the sum of the slots' contexts, else n_ctx × total_slots.
  // Derived from settings, not a KV measurement, and too high for a unified
  // pool, so it is marked estimated.
  uint64_t sum_ctx = 0;
  bool have_ctx = false;
  std::optional<uint64_t> used;
  for (const LlamaCppSlot& s : slots) {
    if (s.n_ctx) {
      sum_ctx += *s.n_ctx;
      have_ctx = true;
    }
    if (s.tokens_in_use) used = used.value_or(0) + *s.tokens_in_use;
  }
  if (have_ctx) {
    kv.capacity_tokens = Figure<uint64_t>::estimated(sum_ctx);
    kv.basis = "capacity: sum of /slots n_ctx";
  } else if (props.n_ctx && props.total_slots) {
    kv.capacity_tokens = Figure<uint64_t>::estimated(*props.n_ctx * *props.total_slots);
    kv.basis = "capacity: /props n_ctx x total_slots";
  }
  if (used) {
    kv.used_tokens = Figure<uint64_t>::estimated(*used);
    kv.basis += "; used: slot prompt + decoded tokens";
  }
  // Builds before ~May 2025 still export the gauges (llama.cpp#13660 removed them).
  if (metrics != nullptr) {
    if (auto t = metrics->sum("llamacpp:kv_cache_tokens"); t && *t >= 0) {
      kv.used_tokens = Figure<uint64_t>::measured(static_cast<uint64_t>(*t));
      kv.basis += "; used: llamacpp:kv_cache_tokens";
    }
    if (auto r = metrics->max("llamacpp:kv_cache_usage_ratio"); r && *r >= 0) {
      kv.usage_ratio = Figure<double>::measured(*r);
    }
  }
  kv.complete(std::nullopt);
  return kv;
}

Result<LlamaCppProps> LlamaCppClient::props() const {
  const std::string url = http_.url("/props");
  auto r = http_.get("/props");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_llamacpp_props(r->body, "GET " + url);
}

Result<std::vector<LlamaCppSlot>> LlamaCppClient::slots() const {
  const std::string url = http_.url("/slots");
  auto r = http_.get("/slots");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_llamacpp_slots(r->body, "GET " + url);
}

Result<std::optional<MetricsPage>> LlamaCppClient::metrics() const {
  return fetch_metrics(http_, "/metrics");
}

Result<uint64_t> LlamaCppClient::erase_slot(uint64_t slot_id) const {
  const std::string path = "/slots/" + std::to_string(slot_id) + "?action=erase";
  auto j = jsonu::expect_json(http_.post(path, ""), "POST", http_.url(path));
  if (!j) return j.error();
  auto n = jsonu::u64(*j, "n_erased");
  if (!n) return make_error("POST " + http_.url(path) + ": no \"n_erased\" in the answer");
  return *n;
}

Result<RuntimeInfo> LlamaCppClient::info() const {
  const std::string url = http_.url("/health");
  auto h = http_.get("/health");
  if (!h) return h.error();
  RuntimeInfo info{kind(), base_url(), "", h->status == 200, "ok"};
  if (h->status == 503) {
    info.status = server_message(h->body);  // "Loading model"
    return info;
  }
  if (h->status != 200) return http_status_error("GET", url, *h);
  auto p = props();
  if (!p) return p.error();
  info.version = p->build_info;
  if (p->router) info.status = "ok (router mode)";
  if (p->is_sleeping.value_or(false)) info.status = "sleeping";
  return info;
}

Result<std::vector<LoadedModel>> LlamaCppClient::loaded_models() const {
  auto p = props();
  if (!p) return p.error();
  std::vector<LoadedModel> out;
  if (p->router) {
    const std::string url = http_.url("/models");
    auto r = http_.get("/models");
    if (!r) return r.error();
    if (r->status != 200) return http_status_error("GET", url, *r);
    auto models = parse_llamacpp_router_models(r->body, "GET " + url);
    if (!models) return models.error();
    for (const LlamaCppRouterModel& m : *models) {
      if (m.status == "unloaded" || m.status == "downloading") continue;  // holds no memory
      LoadedModel lm;
      lm.runtime = kind();
      lm.endpoint = base_url();
      lm.name = m.id;
      lm.state = m.failed ? "failed" : m.status;
      lm.model_path = m.path;
      out.push_back(std::move(lm));
    }
    return out;
  }
  LoadedModel lm;
  lm.runtime = kind();
  lm.endpoint = base_url();
  lm.model_path = p->model_path;
  lm.context_tokens = p->n_ctx;
  lm.parallel = p->total_slots;
  lm.state = p->is_sleeping.value_or(false) ? "sleeping" : "loaded";
  lm.unload_supported = false;
  lm.unload_note = "single-model llama-server has no unload API: restart it with "
                   "--sleep-idle-seconds N or in router mode, or stop it";
  // /v1/models gives the alias and meta.size (weight bytes); optional.
  if (auto r = http_.get("/v1/models"); r && r->status == 200) {
    auto j = jsonu::parse(r->body, "GET " + http_.url("/v1/models"));
    if (j) {
      if (const json* data = jsonu::arr(*j, "data"); data && !data->empty()) {
        lm.name = jsonu::str((*data)[0], "id");
        if (const json* meta = jsonu::obj((*data)[0], "meta")) lm.size_bytes = jsonu::u64(*meta, "size");
      }
    }
  }
  if (lm.name.empty()) lm.name = lm.model_path.substr(lm.model_path.find_last_of('/') + 1);
  std::vector<LlamaCppSlot> slot_list;
  if (auto s = slots(); s) slot_list = std::move(*s);  // --no-slots: fall back to /props
  auto m = metrics();
  const MetricsPage* page = (m && m->has_value()) ? &**m : nullptr;
  lm.kv = llamacpp_kv(*p, slot_list, page);
  if (page != nullptr) {
    if (auto v = page->sum("llamacpp:requests_processing")) lm.requests_running = static_cast<uint64_t>(*v);
    if (auto v = page->sum("llamacpp:requests_deferred")) lm.requests_waiting = static_cast<uint64_t>(*v);
  } else if (!slot_list.empty()) {
    uint64_t busy = 0;
    for (const auto& s : slot_list) busy += s.is_processing ? 1 : 0;
    lm.requests_running = busy;
  }
  out.push_back(std::move(lm));
  return out;
}

Status LlamaCppClient::unload(const std::string& model) const {
  auto p = props();
  if (!p) return p.error();
  if (!p->router) {
    return make_error("not supported by llama.cpp at " + base_url() +
                      ": a single-model llama-server has no unload API; start it with "
                      "--sleep-idle-seconds N, run it in router mode, or stop the process");
  }
  const std::string url = http_.url("/models/unload");
  auto j = jsonu::expect_json(http_.post("/models/unload", json{{"model", model}}.dump()),
                             "POST", url);
  if (!j) return j.error();
  if (!jsonu::boolean(*j, "success").value_or(false)) {
    return make_error("POST " + url + ": the server did not confirm the unload (" +
                      j->dump().substr(0, 200) + ")");
  }
  return Ok{};
}

Status LlamaCppClient::preload(const std::string& model, const PreloadOptions& options) const {
  if (!options.keep_alive.empty() || options.num_ctx || options.num_gpu) {
    return make_error("not supported by llama.cpp at " + base_url() +
                      ": keep-alive, context and GPU layers are llama-server start-up flags");
  }
  auto p = props();
  if (!p) return p.error();
  if (!p->router) {
    return make_error("not supported by llama.cpp at " + base_url() +
                      ": a single-model llama-server loads its model at start-up");
  }
  const std::string url = http_.url("/models/load");
  auto j = jsonu::expect_json(http_.post("/models/load", json{{"model", model}}.dump()),
                             "POST", url);
  if (!j) return j.error();
  if (!jsonu::boolean(*j, "success").value_or(false)) {
    return make_error("POST " + url + ": the server did not confirm the load");
  }
  return Ok{};
}

}  // namespace memopt::runtimes

// The registry's entry for llama.cpp: llama-server and every program that
// embeds libllama (LM Studio's engine, node-llama-cpp, koboldcpp, llamafile,
// llama-cpp-python); /props, /slots and /metrics for models and KV.
namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kProgram, "llama-server", 0.9},
    {S::kProgram, "llama-cli", 0.9},
    {S::kProgram, "llama-run", 0.9},
    {S::kProgram, "llama-mtmd-cli", 0.9},
    {S::kProgram, "llamafile", 0.9, "llamafile"},
    {S::kProgramSuffix, ".llamafile", 0.9, "llamafile"},
    {S::kLibraryPath, "/.llamafile/", 0.85, "llamafile"},
    {S::kProgram, "koboldcpp", 0.9, "koboldcpp"},
    {S::kScriptPath, "koboldcpp.py", 0.9, "koboldcpp"},
    {S::kLibraryPrefix, "koboldcpp_", 0.85, "koboldcpp"},
    {S::kProgram, "llmster", 0.85, "LM Studio"},
    {S::kLibraryPath, "/.lmstudio/", 0.85, "LM Studio"},
    {S::kLibraryPath, "/@node-llama-cpp/", 0.85, "node-llama-cpp"},
    {S::kPythonModule, "llama_cpp.server", 0.9, "llama-cpp-python"},
    {S::kLibraryPath, "/llama_cpp/lib/", 0.85, "llama-cpp-python"},
    {S::kLibraryPrefix, "libllama", 0.8},
    {S::kLibraryPrefix, "libggml", 0.75},
    // Windows builds name the same libraries without "lib" (llama.dll,
    // ggml.dll, ggml-base.dll, ggml-cuda.dll).
    {S::kLibraryPrefix, "llama.dll", 0.8},
    {S::kLibraryPrefix, "ggml", 0.75},
};
constexpr uint16_t kPorts[] = {8080, 5001, 1234};
constexpr HttpProbe kProbes[] = {{"/props", "\"default_generation_settings\""}};
constexpr std::string_view kAliases[] = {"llamacpp", "llama-server"};

ProbeAnswer identify(const HttpClient& http) {
  bool unreachable = false;
  auto p = jsonu::probe_json(http, "/props", &unreachable);
  if (unreachable) return ProbeAnswer::kUnreachable;
  if (p && p->is_object() &&
      (p->contains("default_generation_settings") || jsonu::str(*p, "role") == "router")) {
    return ProbeAnswer::kYes;
  }
  return jsonu::first_model_owner(http) == "llamacpp" ? ProbeAnswer::kYes : ProbeAnswer::kNo;
}

std::unique_ptr<RuntimeClient> make(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<LlamaCppClient>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kLlamaCppRuntime{
    .kind = RuntimeKind::kLlamaCpp,
    .name = "llama.cpp",
    .role = RuntimeRole::kEngine,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .aliases = kAliases,
    .make_client = make,
    .identify = identify,
    .probe_order = 1,
    .cli_flag = "llamacpp",
    .api_key_env = "LLAMA_API_KEY",
    .api_key_env_list = true,
    // Unload and load only in router mode (--models-dir); a single-model
    // server frees memory only by stopping.
    .capabilities = {.unload = true, .preload = true},
    .model_facts = "GET /props (n_ctx, total_slots), /slots (per-sequence context), /metrics (KV)",
};

}  // namespace memopt::runtimes
