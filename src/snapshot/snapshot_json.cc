// JSON form of the Snapshot (docs/json/status.md). Bytes stay integers.
#include "snapshot/snapshot_json.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "runtimes/models_view.h"
#include "util/json_read.h"

namespace memopt::snapshot {
namespace {

using nlohmann::json;
using json_read::get_bool;
using json_read::get_double;
using json_read::get_u64;
using json_read::member;

json null_or(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
template <typename T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json gpu_json(const gpu::GpuDevice& d) {
  json g{{"index", d.index},
         {"name", d.name},
         {"vendor", gpu::vendor_name(d.vendor)},
         {"total_bytes", d.memory_total_bytes.value_or(0)},
         {"used_bytes", d.memory_used_bytes.value_or(0)}};
  // Telemetry the backend could read; absent members were not readable.
  if (d.temperature_c) g["temperature_c"] = *d.temperature_c;
  if (d.power_draw_watts) g["power_draw_watts"] = *d.power_draw_watts;
  if (d.power_limit_watts) g["power_limit_watts"] = *d.power_limit_watts;
  if (d.utilization_percent) g["utilization_percent"] = *d.utilization_percent;
  if (d.throttle) g["throttle"] = {{"thermal", d.throttle->thermal}, {"power", d.throttle->power}};
  if (d.numa_node) g["numa_node"] = *d.numa_node;
  return g;
}

json loaded_model_json(const runtimes::LoadedModel& m, int64_t now_unix) {
  json j = runtimes::model_to_json(m, now_unix);
  // The status document's flat KV members (the views read these): the pool
  // size and the share in use, and whether the size is our estimate.
  j["context_length"] = m.context_tokens.value_or(0);  // tokens per sequence
  j["kv_cache_bytes"] = opt(m.kv.capacity_bytes.value);
  j["kv_cache_usage"] = opt(m.kv.usage_ratio.value);
  j["kv_estimated"] =
      m.kv.capacity_bytes.known() && m.kv.capacity_bytes.source == runtimes::Provenance::kEstimated;
  j["idle_seconds"] = opt(m.idle_seconds);
  j["n_layers"] = m.n_layers;
  j["kv_peak_bytes"] = m.kv_peak_bytes;
  return j;
}

// ---- reading back: defensive accessors ------------------------------------

std::string get_str(const json& j, const char* key, size_t max = 1024) {
  return json_read::get_text(j, key, max);
}

int get_int(const json& j, const char* key) {
  return static_cast<int>(std::min<uint64_t>(get_u64(j, key).value_or(0), INT32_MAX));
}

const json& array_at(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json* v = member(j, key);
  return v && v->is_array() ? *v : kEmpty;
}

std::vector<std::string> get_strings(const json& j, const char* key) {
  std::vector<std::string> out;
  for (const json& e : array_at(j, key)) {
    if (out.size() >= kMaxRows) break;
    if (e.is_string()) out.push_back(get_str(json{{"s", e}}, "s"));
  }
  return out;
}

gpu::Vendor vendor_from(const std::string& v) {
  if (v == "nvidia") return gpu::Vendor::kNvidia;
  if (v == "amd") return gpu::Vendor::kAmd;
  if (v == "intel") return gpu::Vendor::kIntel;
  return gpu::Vendor::kOther;
}

gpu::GpuDevice gpu_from(const json& g, size_t position) {
  gpu::GpuDevice d;
  d.index = static_cast<uint32_t>(std::min<uint64_t>(get_u64(g, "index").value_or(position), 1024));
  d.name = get_str(g, "name", 256);
  d.vendor = vendor_from(get_str(g, "vendor", 16));
  d.memory_total_bytes = get_u64(g, "total_bytes");
  d.memory_used_bytes = get_u64(g, "used_bytes");
  d.temperature_c = get_double(g, "temperature_c");
  d.power_draw_watts = get_double(g, "power_draw_watts");
  d.power_limit_watts = get_double(g, "power_limit_watts");
  if (auto u = get_u64(g, "utilization_percent"); u && *u <= 100) {
    d.utilization_percent = static_cast<uint32_t>(*u);
  }
  if (const json* t = member(g, "throttle"); t && t->is_object()) {
    gpu::ThrottleReasons r;
    r.thermal = get_bool(*t, "thermal");
    r.power = get_bool(*t, "power");
    d.throttle = r;
  }
  if (auto n = get_u64(g, "numa_node"); n && *n < 1024) d.numa_node = static_cast<int>(*n);
  return d;
}

Workload workload_from(const json& w) {
  Workload out;
  out.runtime = get_str(w, "runtime", 64);
  out.runtime_name = get_str(w, "runtime_name", 256);
  out.flavor = get_str(w, "flavor", 64);
  out.accelerators = get_strings(w, "accelerators");
  out.also = get_strings(w, "also");
  out.pid = get_int(w, "pid");
  for (const json& p : array_at(w, "pids")) {
    if (out.pids.size() >= kMaxRows) break;
    if (auto pid = get_u64(json{{"p", p}}, "p")) {
      out.pids.push_back(static_cast<int>(std::min<uint64_t>(*pid, INT32_MAX)));
    }
  }
  out.command = get_str(w, "command", 256);
  out.container_id = get_str(w, "container_id", 128);
  out.uid = static_cast<uint32_t>(std::min<uint64_t>(get_u64(w, "uid").value_or(0), UINT32_MAX));
  out.confidence = get_double(w, "confidence").value_or(0);
  out.endpoint = get_str(w, "endpoint", 256);
  out.endpoint_confirmed = get_bool(w, "endpoint_confirmed");
  out.model = get_str(w, "model", 512);
  out.model_files = get_strings(w, "model_files");
  out.context_tokens = get_u64(w, "context_tokens").value_or(0);
  out.parallel = get_u64(w, "parallel").value_or(0);
  if (const json* e = member(w, "estimate"); e && e->is_object()) {
    out.estimate = WorkloadEstimate{
        get_u64(*e, "context_tokens").value_or(0), get_u64(*e, "weights_bytes").value_or(0),
        get_u64(*e, "kv_cache_bytes").value_or(0), get_u64(*e, "total_bytes").value_or(0)};
  }
  if (const json* e = member(w, "learned_peak"); e && e->is_object()) {
    const auto gpu = get_u64(*e, "gpu");
    const auto peak = get_u64(*e, "peak_bytes");
    const auto runs = get_u64(*e, "runs");
    if (gpu && peak && runs && *gpu <= UINT32_MAX && *runs <= UINT32_MAX) {
      out.learned_peak = LearnedPeak{static_cast<uint32_t>(*gpu), *peak,
                                     static_cast<uint32_t>(*runs)};
    }
  }
  out.rss_bytes = get_u64(w, "rss_bytes").value_or(0);
  out.swap_bytes = get_u64(w, "swap_bytes").value_or(0);
  for (const json& v : array_at(w, "vram")) {
    if (out.vram.size() >= 1024) break;
    out.vram.push_back(
        {static_cast<uint32_t>(std::min<uint64_t>(get_u64(v, "gpu").value_or(0), 1024)),
         get_u64(v, "used_bytes").value_or(0)});
  }
  out.vram_bytes = get_u64(w, "vram_bytes").value_or(0);
  out.note = get_str(w, "note", 512);
  out.gateway_model = get_str(w, "gateway_model", 128);
  return out;
}

GatewayStatus gateway_from(const json& g) {
  GatewayStatus out;
  out.listen = get_str(g, "listen", 256);
  out.reachable = get_bool(g, "reachable");
  out.error = get_str(g, "error");
  for (const json& d : array_at(g, "devices")) {
    if (out.devices.size() >= 64) break;
    const uint64_t gpu = get_u64(d, "gpu").value_or(UINT64_MAX);
    out.devices.push_back({get_str(d, "device", 128), get_u64(d, "budget_bytes").value_or(0),
                           get_u64(d, "planned_bytes").value_or(0),
                           gpu < 1024 ? static_cast<int>(gpu) : -1});
  }
  for (const json& m : array_at(g, "models")) {
    if (out.models.size() >= kMaxRows) break;
    GatewayModel x;
    x.name = get_str(m, "name", 128);
    x.state = get_str(m, "state", 16);
    for (const json& b : array_at(m, "planned_bytes")) {
      if (x.planned_bytes.size() >= 64) break;
      x.planned_bytes.push_back(get_u64(json{{"b", b}}, "b").value_or(0));
    }
    x.pid = get_int(m, "pid");
    x.port = get_int(m, "port");
    x.rss_bytes = get_u64(m, "rss_bytes").value_or(0);
    x.queued = get_u64(m, "queued").value_or(0);
    x.oldest_wait_seconds = std::max(0.0, get_double(m, "oldest_wait_seconds").value_or(0));
    if (auto w = get_double(m, "mean_wait_seconds"); w && *w >= 0) x.mean_wait_seconds = w;
    x.in_flight = get_u64(m, "in_flight").value_or(0);
    x.runtime = get_str(m, "runtime", 32);
    x.last_error = get_str(m, "last_error");
    out.models.push_back(std::move(x));
  }
  if (const json* h = member(g, "handoff"); h && h->is_object()) {
    GatewayHandoff gh;
    gh.phase = get_str(*h, "phase", 16);
    gh.mode = get_str(*h, "mode", 16);
    gh.rendering_on = get_str(*h, "rendering_on", 300);
    gh.handoffs = get_u64(*h, "handoffs").value_or(0);
    gh.requests_held = get_u64(*h, "requests_held").value_or(0);
    gh.requests_rejected = get_u64(*h, "requests_rejected").value_or(0);
    out.handoff = std::move(gh);
  }
  return out;
}

// Older documents (and hand-written ones) carry only the flat members.
void fill_kv_from_flat_members(const json& m, runtimes::LoadedModel& out) {
  if (auto kv = get_u64(m, "kv_cache_bytes")) {
    out.kv.capacity_bytes = get_bool(m, "kv_estimated") ? runtimes::Figure<uint64_t>::estimated(*kv)
                                                        : runtimes::Figure<uint64_t>::measured(*kv);
  }
  if (auto u = get_double(m, "kv_cache_usage"); u && *u >= 0 && *u <= 1) {
    out.kv.usage_ratio = runtimes::Figure<double>::measured(*u);
  }
  if (out.kv.capacity_bytes.known() && out.kv.usage_ratio.known()) {
    out.kv.used_bytes = {static_cast<uint64_t>(*out.kv.usage_ratio.value *
                                               static_cast<double>(*out.kv.capacity_bytes.value)),
                         out.kv.capacity_bytes.source};
  }
}

runtimes::LoadedModel model_from(const json& m) {
  runtimes::LoadedModel out;
  const std::string runtime = get_str(m, "runtime", 64);
  // Only ids the registry knows become kinds (a RuntimeKind views a string
  // with static storage); an unknown one stays empty ("unknown").
  if (auto k = runtimes::runtime_from_name(runtime)) out.runtime = *k;
  out.name = get_str(m, "name", 512);
  out.endpoint = get_str(m, "endpoint", 256);
  if (std::string st = get_str(m, "state", 32); !st.empty()) out.state = st;
  out.size_bytes = get_u64(m, "size_bytes");
  out.vram_bytes = get_u64(m, "vram_bytes");
  out.context_tokens = get_u64(m, "context_tokens");
  if (!out.context_tokens) {
    if (auto c = get_u64(m, "context_length"); c && *c > 0) out.context_tokens = c;
  }
  out.parallel = get_u64(m, "parallel");
  out.expires_at = get_str(m, "expires_at", 64);
  out.model_path = get_str(m, "model_path", 1024);
  out.requests_running = get_u64(m, "requests_running");
  out.requests_waiting = get_u64(m, "requests_waiting");
  if (const json* kv = member(m, "kv_cache"); kv && kv->is_object()) {
    // The full figures with their provenance (runtimes::kv_to_json).
    auto figure = [&](const char* key, auto& f) {
      const json* x = member(*kv, key);
      if (!x || !x->is_object()) return;
      using T = typename std::decay_t<decltype(f.value)>::value_type;
      std::optional<T> v;
      if constexpr (std::is_same_v<T, double>) {
        v = get_double(*x, "value");
        if (v && (*v < 0 || *v > 1)) v.reset();
      } else {
        v = get_u64(*x, "value");
      }
      if (!v) return;
      f.value = v;
      f.source = get_str(*x, "source", 16) == "estimated" ? runtimes::Provenance::kEstimated
                                                          : runtimes::Provenance::kMeasured;
    };
    figure("capacity_tokens", out.kv.capacity_tokens);
    figure("used_tokens", out.kv.used_tokens);
    figure("capacity_bytes", out.kv.capacity_bytes);
    figure("used_bytes", out.kv.used_bytes);
    figure("usage_ratio", out.kv.usage_ratio);
    out.kv.basis = get_str(*kv, "basis", 256);
  }
  if (out.kv.empty()) fill_kv_from_flat_members(m, out);
  out.n_layers =
      static_cast<uint32_t>(std::min<uint64_t>(get_u64(m, "n_layers").value_or(0), 65536));
  out.idle_seconds = get_double(m, "idle_seconds");
  out.kv_peak_bytes = get_u64(m, "kv_peak_bytes").value_or(0);
  return out;
}

}  // namespace

json to_json(const Workload& w) {
  json j;
  j["runtime"] = w.runtime;
  j["runtime_name"] = w.runtime_name;
  if (!w.flavor.empty()) j["flavor"] = w.flavor;
  j["accelerators"] = w.accelerators;
  j["also"] = w.also;
  j["pid"] = w.pid;
  j["pids"] = w.pids;
  j["command"] = w.command;
  j["uid"] = w.uid;
  j["container_id"] = null_or(w.container_id);
  j["confidence"] = w.confidence;
  json ev = json::array();
  for (const auto& e : w.evidence) {
    ev.push_back(
        {{"pid", e.pid}, {"signal", e.signal}, {"detail", e.detail}, {"confidence", e.confidence}});
  }
  j["evidence"] = ev;
  j["endpoint"] = null_or(w.endpoint);
  j["endpoint_confirmed"] = w.endpoint_confirmed;
  j["model"] = null_or(w.model);
  j["model_files"] = w.model_files;
  json models = json::array();
  for (const auto& m : w.models) {
    json mj{{"path", m.path},
            {"file_bytes", m.file_bytes},
            {"architecture", m.architecture},
            {"name", m.name},
            {"file_type", m.file_type_name},
            {"parameter_count", m.parameter_count},
            {"weight_bytes", m.weight_bytes},
            {"context_length", m.context_length},
            {"block_count", m.block_count}};
    if (!m.error.empty()) mj["error"] = m.error;
    models.push_back(mj);
  }
  j["models"] = models;
  j["context_tokens"] = w.context_tokens;
  j["parallel"] = w.parallel;
  if (w.estimate) {
    j["estimate"] = {{"context_tokens", w.estimate->context_tokens},
                     {"weights_bytes", w.estimate->weights_bytes},
                     {"kv_cache_bytes", w.estimate->kv_cache_bytes},
                     {"total_bytes", w.estimate->total_bytes}};
  } else {
    j["estimate"] = nullptr;
  }
  if (w.learned_peak) {
    j["learned_peak"] = {{"gpu", w.learned_peak->gpu_index},
                         {"peak_bytes", w.learned_peak->peak_bytes},
                         {"runs", w.learned_peak->runs}};
  } else {
    j["learned_peak"] = nullptr;
  }
  j["rss_bytes"] = w.rss_bytes;
  j["swap_bytes"] = w.swap_bytes;
  json vram = json::array();
  for (const auto& v : w.vram) vram.push_back({{"gpu", v.gpu_index}, {"used_bytes", v.used_bytes}});
  j["vram"] = vram;
  j["vram_bytes"] = w.vram_bytes;
  if (!w.note.empty()) j["note"] = w.note;
  j["gateway_model"] = null_or(w.gateway_model);
  return j;
}

json to_json(const GatewayStatus& g) {
  json devices = json::array();
  for (const auto& d : g.devices) {
    devices.push_back({{"device", d.device},
                       {"budget_bytes", d.budget_bytes},
                       {"planned_bytes", d.planned_bytes},
                       {"gpu", d.gpu >= 0 ? json(d.gpu) : json(nullptr)}});
  }
  json models = json::array();
  for (const auto& m : g.models) {
    models.push_back({{"name", m.name},
                      {"state", m.state},
                      {"planned_bytes", m.planned_bytes},
                      {"pid", m.pid > 0 ? json(m.pid) : json(nullptr)},
                      {"port", m.port > 0 ? json(m.port) : json(nullptr)},
                      {"rss_bytes", m.rss_bytes},
                      {"queued", m.queued},
                      {"oldest_wait_seconds", m.oldest_wait_seconds},
                      {"mean_wait_seconds", opt(m.mean_wait_seconds)},
                      {"in_flight", m.in_flight},
                      {"runtime", null_or(m.runtime)},
                      {"last_error", null_or(m.last_error)}});
  }
  json handoff = nullptr;
  if (g.handoff) {
    handoff = {{"phase", g.handoff->phase},
               {"mode", g.handoff->mode},
               {"rendering_on", null_or(g.handoff->rendering_on)},
               {"handoffs", g.handoff->handoffs},
               {"requests_held", g.handoff->requests_held},
               {"requests_rejected", g.handoff->requests_rejected},
               {"summary", g.handoff->summary()},
               {"holding", g.handoff->holding()}};
  }
  return {{"listen", g.listen},
          {"reachable", g.reachable},
          {"error", null_or(g.error)},
          {"devices", devices},
          {"models", models},
          {"handoff", handoff}};
}

json to_json(const proc::HostMemory& h) {
  json pressure = nullptr;
  if (h.pressure) {
    const auto& p = *h.pressure;
    pressure = {{"some_avg10", p.some_avg10},   {"some_avg60", p.some_avg60},
                {"some_avg300", p.some_avg300}, {"full_avg10", p.full_avg10},
                {"full_avg60", p.full_avg60},   {"full_avg300", p.full_avg300}};
  }
  json nodes = json::array();
  for (const auto& n : h.numa_nodes) {
    nodes.push_back({{"id", n.id},
                     {"total_bytes", n.total_bytes},
                     {"free_bytes", n.free_bytes},
                     {"cpulist", n.cpulist},
                     {"cpus", n.cpus}});
  }
  const auto& m = h.meminfo;
  return {{"total_bytes", m.total_bytes},
          {"available_bytes", m.available_bytes},
          {"used_bytes", m.total_bytes - std::min(m.total_bytes, m.available_bytes)},
          {"free_bytes", m.free_bytes},
          {"cached_bytes", m.cached_bytes},
          {"swap_total_bytes", m.swap_total_bytes},
          {"swap_free_bytes", m.swap_free_bytes},
          {"pressure", pressure},
          {"numa_nodes", nodes}};
}

json to_json(const Snapshot& s) {
  json j;
  j["schema"] = kStatusSchema;
  j["taken_at_unix_ms"] = s.taken_at_unix_ms;
  j["host"] = to_json(s.host);
  json g = json::array();
  for (const auto& d : s.gpus) g.push_back(gpu_json(d));
  j["gpus"] = g;
  j["gpu_backend"] = s.gpu_backend;
  j["gpu_error"] = null_or(s.gpu_error);
  json ws = json::array();
  for (const auto& w : s.workloads) ws.push_back(to_json(w));
  j["workloads"] = ws;
  json lm = json::array();
  const auto now_unix = static_cast<int64_t>(s.taken_at_unix_ms / 1000);
  for (const auto& m : s.loaded_models) lm.push_back(loaded_model_json(m, now_unix));
  j["loaded_models"] = lm;
  j["scan"] = {{"processes", s.scan.processes},
               {"denied_processes", s.scan.denied_processes},
               {"vanished_processes", s.scan.vanished_processes},
               {"as_root", s.scan.as_root}};
  j["profile"] = null_or(s.profile);
  json wa = json::array();
  for (const auto& w : s.warnings) {
    wa.push_back({{"severity", w.severity}, {"message", w.message}, {"action", w.action}});
  }
  j["warnings"] = wa;
  j["unsupported"] = s.unsupported;
  json errors = json::array();
  for (const auto& e : s.errors)
    errors.push_back({{"collector", e.collector}, {"message", e.message}});
  j["collector_errors"] = errors;
  j["gateway"] = s.gateway ? to_json(*s.gateway) : json(nullptr);
  return j;
}

Result<Snapshot> from_json(const json& doc) {
  if (!doc.is_object()) return make_error("status document: not a JSON object");
  if (const json* schema = member(doc, "schema")) {
    if (!schema->is_string() || schema->get<std::string>() != kStatusSchema) {
      return make_error(std::string("status document: schema is not ") + kStatusSchema);
    }
  }
  Snapshot s;
  s.taken_at_unix_ms = get_u64(doc, "taken_at_unix_ms").value_or(0);
  if (const json* h = member(doc, "host")) {
    auto& m = s.host.meminfo;
    m.total_bytes = get_u64(*h, "total_bytes").value_or(0);
    m.available_bytes = std::min(get_u64(*h, "available_bytes").value_or(0), m.total_bytes);
    m.free_bytes = get_u64(*h, "free_bytes").value_or(0);
    m.cached_bytes = get_u64(*h, "cached_bytes").value_or(0);
    m.swap_total_bytes = get_u64(*h, "swap_total_bytes").value_or(0);
    m.swap_free_bytes = std::min(get_u64(*h, "swap_free_bytes").value_or(0), m.swap_total_bytes);
  }
  for (const json& g : array_at(doc, "gpus")) {
    if (s.gpus.size() >= kMaxRows) break;
    s.gpus.push_back(gpu_from(g, s.gpus.size()));
  }
  s.gpu_backend = get_str(doc, "gpu_backend", 64);
  s.gpu_error = get_str(doc, "gpu_error");
  for (const json& w : array_at(doc, "workloads")) {
    if (s.workloads.size() >= kMaxRows) break;
    s.workloads.push_back(workload_from(w));
  }
  for (const json& m : array_at(doc, "loaded_models")) {
    if (s.loaded_models.size() >= kMaxRows) break;
    s.loaded_models.push_back(model_from(m));
  }
  if (const json* sc = member(doc, "scan")) {
    s.scan = {get_int(*sc, "processes"), get_int(*sc, "denied_processes"),
              get_int(*sc, "vanished_processes"), get_bool(*sc, "as_root")};
  }
  s.profile = get_str(doc, "profile", 128);
  for (const json& w : array_at(doc, "warnings")) {
    if (s.warnings.size() >= kMaxRows) break;
    s.warnings.push_back({get_str(w, "severity", 16), get_str(w, "message"), get_str(w, "action")});
  }
  s.unsupported = get_strings(doc, "unsupported");
  for (const json& e : array_at(doc, "collector_errors")) {
    if (s.errors.size() >= kMaxRows) break;
    s.errors.push_back({get_str(e, "collector", 32), get_str(e, "message")});
  }
  if (const json* g = member(doc, "gateway"); g && g->is_object()) s.gateway = gateway_from(*g);
  return s;
}

}  // namespace memopt::snapshot
