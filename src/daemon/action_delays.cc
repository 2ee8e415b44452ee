#include "daemon/action_delays.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "util/bytes.h"

namespace memopt::daemon {

bool frees_memory(policy::ActionKind k) {
  using policy::ActionKind;
  return k == ActionKind::kUnload || k == ActionKind::kReloadFewerLayers ||
         k == ActionKind::kResizeContext || k == ActionKind::kFreeImageCache;
}

std::optional<DelayWatch> watch_for(const policy::Action& a, double decided_seconds,
                                    int64_t decided_unix_ms, double call_seconds,
                                    const policy::PolicyInput& decided_on) {
  if (!frees_memory(a.kind)) return std::nullopt;
  DelayWatch w;
  w.action = a;
  w.decided_seconds = decided_seconds;
  w.decided_unix_ms = decided_unix_ms;
  w.call_seconds = call_seconds;
  if (a.kind == policy::ActionKind::kFreeImageCache) {
    for (const auto& ig : decided_on.image_gen) {
      if (ig.key() == a.target) w.model_vram_bytes = ig.vram_bytes;
    }
  } else {
    for (const auto& m : decided_on.models) {
      if (m.key() == a.target) w.model_vram_bytes = m.vram_bytes;
    }
  }
  // A reload that frees nothing measurable, or a target the input did not
  // hold, cannot be judged: no watch rather than a made-up delay.
  if (a.kind != policy::ActionKind::kUnload && (a.expected_bytes == 0 || w.model_vram_bytes == 0)) {
    return std::nullopt;
  }
  return w;
}

bool memory_back(const DelayWatch& w, const policy::PolicyInput& in) {
  using policy::ActionKind;
  const uint64_t half = w.action.expected_bytes / 2;
  if (w.action.kind == ActionKind::kFreeImageCache) {
    for (const auto& ig : in.image_gen) {
      if (ig.key() == w.action.target) return ig.vram_bytes + half <= w.model_vram_bytes;
    }
    return true;  // the runtime is gone: so is its memory
  }
  for (const auto& m : in.models) {
    if (m.key() != w.action.target) continue;
    if (w.action.kind == ActionKind::kUnload) return false;
    return m.vram_bytes + half <= w.model_vram_bytes;
  }
  return w.action.kind == ActionKind::kUnload;
}

SizeClass size_class(uint64_t model_bytes) {
  if (model_bytes < 2 * kGiB) return {0, 2 * kGiB};
  uint64_t lo = 2 * kGiB;
  while (lo < 64 * kGiB && model_bytes >= 2 * lo) lo *= 2;
  return {lo, lo >= 64 * kGiB ? 0 : 2 * lo};
}

namespace {

// Nearest-rank percentile of sorted values (q in [0, 1]).
double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

std::vector<DelaySummary> summarize_delays(const std::vector<DelayRecord>& newest_first,
                                           size_t per_group) {
  using Key = std::tuple<std::string, std::string, uint64_t>;
  std::map<Key, std::vector<double>> groups;
  std::map<Key, SizeClass> classes;
  for (const auto& r : newest_first) {
    // A hostile or damaged history row must not poison the figures.
    if (!std::isfinite(r.freed_seconds) || r.freed_seconds < 0) continue;
    const SizeClass c = size_class(r.model_bytes);
    const Key k{r.runtime, r.kind, c.min_bytes};
    auto& v = groups[k];
    if (v.size() >= per_group) continue;
    v.push_back(r.freed_seconds);
    classes[k] = c;
  }
  std::vector<DelaySummary> out;
  for (auto& [k, v] : groups) {
    std::sort(v.begin(), v.end());
    DelaySummary s;
    s.runtime = std::get<0>(k);
    s.kind = std::get<1>(k);
    s.size = classes[k];
    s.count = static_cast<uint32_t>(v.size());
    s.p50_seconds = percentile(v, 0.5);
    s.p90_seconds = percentile(v, 0.9);
    s.max_seconds = v.back();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<policy::ActionDelayStats> delay_stats(const std::vector<DelaySummary>& summaries) {
  std::vector<policy::ActionDelayStats> out;
  for (const auto& s : summaries) {
    policy::ActionDelayStats d;
    d.runtime = s.runtime;
    d.action = s.kind;
    d.min_model_bytes = s.size.min_bytes;
    d.max_model_bytes = s.size.max_bytes == 0 ? UINT64_MAX : s.size.max_bytes;
    d.p50_seconds = s.p50_seconds;
    d.p90_seconds = s.p90_seconds;
    d.count = s.count;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace memopt::daemon
