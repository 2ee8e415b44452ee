#include "runtimes/vllm.h"
#include "runtimes/registry.h"

#include <cmath>

#include "runtimes/json_util.h"
#include "runtimes/metrics_fetch.h"

namespace memopt::runtimes {

using jsonu::json;

namespace {

std::optional<uint64_t> label_u64(const Sample& s, std::string_view name) {
  const std::string* v = s.label(name);
  if (v == nullptr || v->empty() || *v == "None") return std::nullopt;  // Python spelling
  uint64_t out = 0;
  for (char c : *v) {
    if (c < '0' || c > '9' || out > (UINT64_MAX - 9) / 10) return std::nullopt;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return out;
}

bool for_model(const Sample& s, const std::string& model_name) {
  if (model_name.empty()) return true;
  const std::string* m = s.label("model_name");
  return m == nullptr || *m == model_name;
}

std::optional<double> sum_for(const MetricsPage& page, std::string_view name,
                              const std::string& model) {
  std::optional<double> total;
  for (const Sample* s : page.samples(name)) {
    if (!for_model(*s, model) || std::isnan(s->value)) continue;
    total = total.value_or(0) + s->value;
  }
  return total;
}

std::optional<double> max_for(const MetricsPage& page, std::string_view name,
                              const std::string& model) {
  std::optional<double> best;
  for (const Sample* s : page.samples(name)) {
    if (!for_model(*s, model) || std::isnan(s->value)) continue;
    if (!best || s->value > *best) best = s->value;
  }
  return best;
}

std::optional<uint64_t> as_count(std::optional<double> v) {
  if (!v || !std::isfinite(*v) || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(std::llround(*v));
}

}  // namespace

Result<std::vector<VllmModel>> parse_vllm_models(std::string_view body, const std::string& where) {
  auto j = jsonu::parse(body, where);
  if (!j) return j.error();
  const json* data = jsonu::arr(*j, "data");
  if (data == nullptr) return make_error(where + ": no \"data\" array in the model list");
  std::vector<VllmModel> out;
  for (const json& m : *data) {
    VllmModel vm;
    vm.id = jsonu::str(m, "id");
    if (vm.id.empty()) continue;
    vm.parent = jsonu::str(m, "parent");
    vm.max_model_len = jsonu::u64(m, "max_model_len");
    out.push_back(std::move(vm));
  }
  return out;
}

VllmEngineState vllm_engine_state(const MetricsPage& page, const std::string& model_name) {
  VllmEngineState st;
  // Capacity: kv_cache_size_tokens (2026 builds), else num_gpu_blocks ×
  // block_size, which over-counts hybrid / sliding-window models (§3.3).
  std::optional<uint64_t> capacity;
  bool exact = false;
  std::optional<uint64_t> kv_bytes;
  for (const Sample* s : page.samples("vllm:cache_config_info")) {
    if (auto t = label_u64(*s, "kv_cache_size_tokens")) {
      capacity = capacity.value_or(0) + *t;
      exact = true;
    } else {
      auto blocks = label_u64(*s, "num_gpu_blocks");
      auto block = label_u64(*s, "block_size");
      if (blocks && block && *blocks < (1ULL << 40) && *block < (1ULL << 20)) {
        capacity = capacity.value_or(0) + *blocks * *block;
      }
    }
    if (auto b = label_u64(*s, "kv_cache_memory_bytes")) kv_bytes = kv_bytes.value_or(0) + *b;
    if (const std::string* g = s->label("gpu_memory_utilization")) {
      char* end = nullptr;
      double v = std::strtod(g->c_str(), &end);
      if (end != g->c_str() && *end == '\0' && v > 0 && v <= 1) st.gpu_memory_utilization = v;
    }
  }
  if (capacity) {
    st.kv.capacity_tokens = exact ? Figure<uint64_t>::measured(*capacity)
                                  : Figure<uint64_t>::estimated(*capacity);
    st.kv.basis = exact ? "capacity: cache_config_info kv_cache_size_tokens"
                        : "capacity: num_gpu_blocks x block_size";
  }
  if (kv_bytes) st.kv.capacity_bytes = Figure<uint64_t>::measured(*kv_bytes);
  // kv_cache_usage_perc is a 0–1 fraction of the KV pool; gpu_cache_usage_perc
  // is its name before vLLM 0.12.
  auto ratio = max_for(page, "vllm:kv_cache_usage_perc", model_name);
  if (!ratio) ratio = max_for(page, "vllm:gpu_cache_usage_perc", model_name);
  if (ratio && std::isfinite(*ratio)) {
    st.kv.usage_ratio = Figure<double>::measured(*ratio);
    st.kv.basis += "; used: kv_cache_usage_perc x capacity";
  }
  st.kv.complete(std::nullopt);
  st.requests_running = as_count(sum_for(page, "vllm:num_requests_running", model_name));
  st.requests_waiting = as_count(sum_for(page, "vllm:num_requests_waiting", model_name));
  st.preemptions = as_count(sum_for(page, "vllm:num_preemptions_total", model_name));
  for (const Sample* s : page.samples("vllm:engine_sleep_state")) {
    const std::string* state = s->label("sleep_state");
    if (state != nullptr && for_model(*s, model_name) && s->value == 1.0) st.sleep_state = *state;
  }
  return st;
}

Result<std::vector<VllmModel>> VllmClient::models() const {
  const std::string url = http_.url("/v1/models");
  auto r = http_.get("/v1/models");
  if (!r) return r.error();
  if (r->status != 200) return http_status_error("GET", url, *r);
  return parse_vllm_models(r->body, "GET " + url);
}

Result<RuntimeInfo> VllmClient::info() const {
  auto j = jsonu::expect_json(http_.get("/version"), "GET", http_.url("/version"));
  if (!j) return j.error();
  RuntimeInfo info{kind(), base_url(), jsonu::str(*j, "version"), true, "ok"};
  auto h = http_.get("/health");
  if (!h) return h.error();
  if (h->status != 200) {
    info.ready = false;
    info.status = "engine unhealthy (HTTP " + std::to_string(h->status) + ")";
  }
  return info;
}

Result<std::vector<LoadedModel>> VllmClient::loaded_models() const {
  auto ms = models();
  if (!ms) return ms.error();
  auto page = fetch_metrics(http_, "/metrics");
  if (!page) return page.error();
  std::vector<LoadedModel> out;
  for (const VllmModel& m : *ms) {
    if (!m.parent.empty()) continue;  // a LoRA adapter rides on its base model
    LoadedModel lm;
    lm.runtime = kind();
    lm.endpoint = base_url();
    lm.name = m.id;
    lm.context_tokens = m.max_model_len;
    if (page->has_value()) {
      VllmEngineState st = vllm_engine_state(**page, m.id);
      lm.kv = st.kv;
      lm.requests_running = st.requests_running;
      lm.requests_waiting = st.requests_waiting;
      if (!st.sleep_state.empty() && st.sleep_state != "awake") lm.state = "sleeping";
    }
    out.push_back(std::move(lm));
  }
  return out;
}

Status VllmClient::sleep(int level) const {
  const std::string path = "/sleep?level=" + std::to_string(level);
  auto r = http_.post(path, "");
  if (!r) return r.error();
  if (r->status == 404) {
    return make_error("not supported by vllm at " + base_url() +
                      ": POST /sleep answered 404; start the server with "
                      "VLLM_SERVER_DEV_MODE=1 and --enable-sleep-mode");
  }
  if (r->status != 200) return http_status_error("POST", http_.url(path), *r);
  return Ok{};
}

Status VllmClient::wake_up() const {
  HttpOptions slow = http_.options();
  slow.read_timeout = std::max(slow.read_timeout, slow.load_timeout);
  slow.total_timeout = std::max(slow.total_timeout, slow.load_timeout);
  HttpClient waker(http_.base(), slow);
  auto r = waker.post("/wake_up", "");
  if (!r) return r.error();
  if (r->status == 404) {
    return make_error("not supported by vllm at " + base_url() +
                      ": POST /wake_up answered 404; start the server with "
                      "VLLM_SERVER_DEV_MODE=1 and --enable-sleep-mode");
  }
  if (r->status != 200) return http_status_error("POST", waker.url("/wake_up"), *r);
  return Ok{};
}

Result<bool> VllmClient::is_sleeping() const {
  auto j = jsonu::expect_json(http_.get("/is_sleeping"), "GET", http_.url("/is_sleeping"));
  if (!j) return j.error();
  auto b = jsonu::boolean(*j, "is_sleeping");
  if (!b) return make_error("GET " + http_.url("/is_sleeping") + ": no \"is_sleeping\" boolean");
  return *b;
}

namespace {
Status check_served(const VllmClient& c, const std::string& model) {
  auto ms = c.models();
  if (!ms) return ms.error();
  for (const VllmModel& m : *ms) {
    if (m.id == model) return Ok{};
  }
  return make_error("vllm at " + c.base_url() + " does not serve '" + model +
                    "' (sleep mode acts on the whole engine; name its model)");
}
}  // namespace

Status VllmClient::unload(const std::string& model) const {
  if (auto s = check_served(*this, model); !s) return s;
  return sleep(1);
}

Status VllmClient::preload(const std::string& model, const PreloadOptions& options) const {
  if (!options.keep_alive.empty() || options.num_ctx || options.num_gpu) {
    return make_error("not supported by vllm at " + base_url() +
                      ": keep-alive, context and GPU layers are vLLM start-up flags");
  }
  if (auto s = check_served(*this, model); !s) return s;
  return wake_up();
}

}  // namespace memopt::runtimes

// The registry's entry for vLLM: its engine processes, port 8000, /metrics
// for the KV pool, sleep mode for freeing GPU memory.
namespace memopt::runtimes {
namespace {

using S = Signal;
constexpr SignalRule kRules[] = {
    {S::kCommPrefix, "VLLM::", 0.95},  // VLLM::EngineCore, VLLM::Worker_TP0
    {S::kCommand, "vllm serve", 0.95},
    {S::kPythonModule, "vllm.entrypoints", 0.95},
    {S::kLibraryPath, "/vllm/_C", 0.9},
    {S::kLibraryPath, "/vllm/_moe_C", 0.9},
};
constexpr uint16_t kPorts[] = {8000};
constexpr HttpProbe kProbes[] = {{"/metrics", "vllm:"}};

ProbeAnswer identify(const HttpClient& http) {
  return jsonu::first_model_owner(http) == "vllm" ? ProbeAnswer::kYes : ProbeAnswer::kNo;
}

std::unique_ptr<RuntimeClient> make(const BaseUrl& b, const HttpOptions& o) {
  return std::make_unique<VllmClient>(b, o);
}

}  // namespace

extern const RuntimeDescriptor kVllmRuntime{
    .kind = RuntimeKind::kVllm,
    .name = "vLLM",
    .role = RuntimeRole::kServer,
    .rules = kRules,
    .default_ports = kPorts,
    .probes = kProbes,
    .make_client = make,
    .identify = identify,
    .probe_order = 2,
    .cli_flag = "vllm",
    // args.api_key or [envs.VLLM_API_KEY]: the flag wins, the variable is one key.
    .api_key_env = "VLLM_API_KEY",
    .capabilities = {.unload = true, .preload = true, .reload = true, .sleep = true},
    .model_facts = "GET /v1/models (max_model_len), /metrics (KV usage, blocks)",
};

}  // namespace memopt::runtimes
