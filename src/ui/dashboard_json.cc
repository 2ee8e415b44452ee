#include "ui/dashboard_json.h"

#include "snapshot/snapshot_json.h"
#include "util/json_read.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

namespace memopt::ui {
namespace {

using nlohmann::json;
using json_read::get_double;
using json_read::get_u64;
using json_read::member;

// Strings shown on screen: bounded and printable ASCII only, so a payload
// cannot move the cursor or paint escape sequences in the terminal.
std::string get_str(const json& j, const char* key) {
  const json* v = member(j, key);
  if (!v || !v->is_string()) return "";
  const auto& s = v->get_ref<const std::string&>();
  std::string out;
  for (char c : s.substr(0, 256)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

const json& array_of(const json& j, std::initializer_list<const char*> keys) {
  static const json kEmpty = json::array();
  if (j.is_array()) return j;
  for (const char* k : keys) {
    const json* v = member(j, k);
    if (v && v->is_array()) return *v;
  }
  return kEmpty;
}


// A runtime's loaded model as a row, with the scanned workload serving it
// (null when no scanned process owns it: another container, a remote host).
WorkloadView model_row(const snapshot::Workload* w, const runtimes::LoadedModel& m) {
  WorkloadView r;
  r.runtime = w ? w->runtime : std::string(runtimes::runtime_name(m.runtime));
  r.model = m.name;
  r.endpoint = m.endpoint;
  if (w) r.pid = w->pid;
  r.vram_bytes = m.vram_bytes;
  // A runtime's model is split GPU/CPU: what is not in VRAM sits in RAM.
  if (m.size_bytes && m.vram_bytes) {
    const uint64_t size = *m.size_bytes, vram = *m.vram_bytes;
    r.ram_bytes = size > vram ? size - vram : 0;
    if (size > 0) r.gpu_share = std::min(1.0, static_cast<double>(vram) / static_cast<double>(size));
  }
  // The KV cache the model holds (reported or estimated) and the share in use.
  r.kv_capacity_bytes = m.kv.capacity_bytes.value;
  if (r.kv_capacity_bytes && m.kv.usage_ratio.known()) {
    const double usage = *m.kv.usage_ratio.value;
    if (usage >= 0 && usage <= 1) {
      r.kv_used_bytes = static_cast<uint64_t>(usage * static_cast<double>(*r.kv_capacity_bytes));
    }
  }
  // Without the runtime's split, the process that serves the model holds it.
  if (!r.ram_bytes && w) r.ram_bytes = w->rss_bytes;
  r.idle_seconds = m.idle_seconds;
  r.context_tokens = m.context_tokens;
  r.parallel = m.parallel;
  return r;
}

}  // namespace

Dashboard dashboard_from_snapshot(const snapshot::Snapshot& s) {
  Dashboard d;
  d.gateway = s.gateway;
  d.ram_total_bytes = s.host.meminfo.total_bytes;
  d.ram_available_bytes = std::min(s.host.meminfo.available_bytes, d.ram_total_bytes);
  for (const gpu::GpuDevice& g : s.gpus) {
    if (d.gpus.size() >= kMaxRows) break;
    GpuView v;
    v.index = static_cast<int>(std::min<uint32_t>(g.index, 1024));
    v.name = g.name;
    v.total_bytes = g.memory_total_bytes.value_or(0);
    v.used_bytes = g.memory_used_bytes.value_or(0);
    v.temperature_c = g.temperature_c;
    v.power_watts = g.power_draw_watts;
    v.power_limit_watts = g.power_limit_watts;
    if (g.utilization_percent && *g.utilization_percent <= 100) v.utilization_percent = g.utilization_percent;
    if (g.throttle) {
      if (g.throttle->thermal) v.throttle = "thermal";
      if (g.throttle->power) v.throttle += v.throttle.empty() ? "power" : "+power";
    }
    d.gpus.push_back(std::move(v));
  }
  const bool have_gpus = !d.gpus.empty();

  std::vector<bool> used(s.loaded_models.size(), false);
  // AI workloads (with their loaded models), then models no scanned process
  // owns, then the non-AI VRAM holders ("other"), so AI work sorts first.
  std::vector<WorkloadView> others;
  for (const snapshot::Workload& w : s.workloads) {
    if (d.workloads.size() + others.size() >= kMaxRows) break;
    bool any = false;
    for (size_t i = 0; i < s.loaded_models.size() && d.workloads.size() < kMaxRows; ++i) {
      if (used[i] || w.endpoint.empty() || s.loaded_models[i].endpoint != w.endpoint) continue;
      used[i] = true;
      any = true;
      d.workloads.push_back(model_row(&w, s.loaded_models[i]));
    }
    if (any) continue;
    WorkloadView r;
    r.runtime = w.runtime;
    r.model = w.model;
    // A non-AI VRAM holder has no model: its command says who it is.
    if (r.model.empty() && !w.is_ai()) r.model = w.runtime_name.empty() ? w.command : w.runtime_name;
    r.endpoint = w.endpoint;
    r.pid = w.pid;
    r.ram_bytes = w.rss_bytes;
    // Without a GPU reading, a 0 would claim "no VRAM"; show unknown instead.
    if (have_gpus) r.vram_bytes = w.vram_bytes;
    if (w.estimate) {
      r.kv_capacity_bytes = w.estimate->kv_cache_bytes;
      if (w.estimate->total_bytes > 0 && r.vram_bytes) {
        r.gpu_share = std::min(1.0, static_cast<double>(*r.vram_bytes) /
                                        static_cast<double>(w.estimate->total_bytes));
      }
    }
    (w.is_ai() ? d.workloads : others).push_back(std::move(r));
  }
  for (size_t i = 0; i < s.loaded_models.size() && d.workloads.size() < kMaxRows; ++i) {
    if (!used[i]) d.workloads.push_back(model_row(nullptr, s.loaded_models[i]));
  }
  for (WorkloadView& o : others) {
    if (d.workloads.size() >= kMaxRows) break;
    d.workloads.push_back(std::move(o));
  }
  if (!s.profile.empty()) d.profile = ProfileView{s.profile, 0, 0, 0};
  // The same map the daemon's status document carries (one function, so the
  // watch and the web page cannot disagree); the watch marks thresholds on
  // its usage bars, so none are asked for here.
  d.maps = memory_map(s, {});
  if (d.maps.size() > kMaxRows) d.maps.resize(kMaxRows);
  for (const auto& w : s.warnings) {
    if (d.warnings.size() >= 16) break;
    if (!w.message.empty()) d.warnings.push_back(w.message);
  }
  return d;
}

Dashboard dashboard_from_status(const json& status) {
  auto snap = snapshot::from_json(status);
  Dashboard d = snap ? dashboard_from_snapshot(*snap) : Dashboard{};
  // A status document may carry the profile with its thresholds.
  if (const json* p = member(status, "profile"); p && p->is_object()) {
    ProfileView pv;
    pv.name = get_str(*p, "name");
    pv.auto_compact_threshold = get_double(*p, "auto_compact_threshold").value_or(0);
    pv.auto_offload_threshold = get_double(*p, "auto_offload_threshold").value_or(0);
    pv.reserve_ram_gb = get_double(*p, "reserve_ram_gb").value_or(0);
    if (!pv.name.empty()) d.profile = pv;
  }
  const std::string mode = get_str(status, "actions");
  if (mode == "active" || mode == "paused") d.actions_mode = mode;
  return d;
}

void add_history(Dashboard& d, const json (&answers)[5]) {
  std::map<uint64_t, uint64_t> sums[5];
  size_t points = 0;
  for (size_t k = 0; k < 5; ++k) {
    for (const json& series : array_of(answers[k], {"series"})) {
      for (const json& p : array_of(series, {"points"})) {
        if (++points > 8 * kMaxRows) break;  // bounded whatever the daemon sends
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number()) continue;
        const double ts = p[0].get<double>(), v = p[1].get<double>();
        if (!std::isfinite(ts) || ts < 0 || !std::isfinite(v) || v < 0 || v >= 1.8e19) continue;
        sums[k][static_cast<uint64_t>(ts)] += static_cast<uint64_t>(v);
      }
    }
  }
  auto at = [&](size_t k, uint64_t ts) {
    auto it = sums[k].find(ts);
    return it == sums[k].end() ? uint64_t{0} : it->second;
  };
  for (const auto& [ts, ram_total] : sums[3]) {
    // A series missing at this time would read as 0 and draw a false spike.
    if (!sums[2].contains(ts) || sums[0].contains(ts) != sums[1].contains(ts)) continue;
    HistoryPoint p;
    p.t_seconds = static_cast<double>(ts);
    p.vram_used_bytes = at(0, ts);
    p.vram_total_bytes = at(1, ts);
    p.ram_total_bytes = ram_total;
    p.ram_used_bytes = ram_total - std::min(ram_total, at(2, ts));
    p.kv_used_bytes = at(4, ts);
    d.history.push_back(p);
  }
  if (d.history.size() > kMaxRows) {
    d.history.erase(d.history.begin(), d.history.end() - static_cast<std::ptrdiff_t>(kMaxRows));
  }
}

void add_actions(Dashboard& d, const json& actions, int64_t utc_offset_seconds) {
  const json& rows = array_of(actions, {"actions"});
  const size_t first = rows.size() > kMaxRows ? rows.size() - kMaxRows : 0;
  for (size_t i = first; i < rows.size(); ++i) {
    const json& r = rows[i];
    ActionView a;
    if (auto ms = get_u64(r, "ts_ms")) {
      const int64_t day_s = ((static_cast<int64_t>(*ms / 1000) + utc_offset_seconds) % 86400 + 86400) % 86400;
      a.when = fmt::format("{:02}:{:02}:{:02}", day_s / 3600, (day_s / 60) % 60, day_s % 60);
    }
    a.kind = get_str(r, "kind");
    a.target = get_str(r, "target");
    a.reason = get_str(r, "reason");
    a.outcome = get_str(r, "outcome");
    d.actions.push_back(std::move(a));
  }
}

json dashboard_to_json(const Dashboard& d) {
  auto opt = [](const auto& o) { return o ? json(*o) : json(nullptr); };
  json j;
  j["schema"] = "ruvector-memopt.watch/1";
  j["source"] = d.source;
  j["ram"] = {{"total_bytes", d.ram_total_bytes}, {"available_bytes", d.ram_available_bytes}};
  j["gpus"] = json::array();
  for (const GpuView& g : d.gpus) {
    j["gpus"].push_back({{"index", g.index},
                         {"name", g.name},
                         {"used_bytes", g.used_bytes},
                         {"total_bytes", g.total_bytes},
                         {"temperature_c", opt(g.temperature_c)},
                         {"power_draw_watts", opt(g.power_watts)},
                         {"power_limit_watts", opt(g.power_limit_watts)},
                         {"utilization_percent", opt(g.utilization_percent)},
                         {"throttle", g.throttle}});
  }
  j["gateway"] = d.gateway ? snapshot::to_json(*d.gateway) : json(nullptr);
  j["profile"] = nullptr;
  if (d.profile) {
    j["profile"] = {{"name", d.profile->name},
                    {"auto_compact_threshold", d.profile->auto_compact_threshold},
                    {"auto_offload_threshold", d.profile->auto_offload_threshold},
                    {"reserve_ram_gb", d.profile->reserve_ram_gb}};
  }
  j["workloads"] = json::array();
  for (const WorkloadView& w : d.workloads) {
    j["workloads"].push_back({{"runtime", w.runtime},
                              {"model", w.model},
                              {"endpoint", w.endpoint},
                              {"pid", w.pid},
                              {"vram_bytes", opt(w.vram_bytes)},
                              {"ram_bytes", opt(w.ram_bytes)},
                              {"gpu_share", opt(w.gpu_share)},
                              {"kv_used_bytes", opt(w.kv_used_bytes)},
                              {"kv_capacity_bytes", opt(w.kv_capacity_bytes)},
                              {"idle_seconds", opt(w.idle_seconds)},
                              {"context_tokens", opt(w.context_tokens)},
                              {"parallel", opt(w.parallel)}});
  }
  j["actions"] = json::array();
  for (const ActionView& a : d.actions) {
    j["actions"].push_back({{"time", a.when},
                            {"kind", a.kind},
                            {"target", a.target},
                            {"reason", a.reason},
                            {"outcome", a.outcome}});
  }
  j["warnings"] = d.warnings;
  return j;
}

}  // namespace memopt::ui
