// The policy pass (engine_pass.h): each GPU's growth forecast, and when to
// sample faster than the configured interval.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "policy/engine_pass.h"
#include "util/bytes.h"

namespace memopt::policy::engine_detail {

GpuForecast Pass::forecast(const GpuState& g) {
  std::vector<UsagePoint> pts;
  for (const auto& h : history_) {
    for (const auto& hg : h.gpus) {
      if (hg.index == g.index) pts.push_back({h.now_seconds, hg.used_bytes});
    }
  }
  pts.push_back({in_.now_seconds, g.used_bytes});
  GpuForecast f;
  f.gpu = g.index;
  // Where this engine freed memory recently, the samples drop once the
  // action lands (a drop of at least half what it was to free marks it):
  // the fit takes that drop as a step, so the growth that goes on stays
  // visible for the escalation, and the freed bytes count as landed.
  double step_after = std::numeric_limits<double>::infinity();
  std::vector<std::pair<double, uint64_t>> acted;  // (decided, bytes) of recent offloads
  for (const auto& fr : st_.recently_freed[g.index]) acted.emplace_back(fr.at, fr.bytes);
  if (const auto fl = st_.last_freed.find(g.index); fl != st_.last_freed.end())
    acted.push_back(fl->second);
  for (const auto& [acted_at, freed_bytes] : acted) {
    // The latest such drop is the step (two in one window are rare: the
    // fit then sees the older one as noise).
    const double drop = -0.5 * static_cast<double>(freed_bytes);
    for (size_t i = 1; i < pts.size(); ++i) {
      if (pts[i - 1].t_seconds < acted_at) continue;
      const double step =
          static_cast<double>(pts[i].used_bytes) - static_cast<double>(pts[i - 1].used_bytes);
      if (step <= drop && (!std::isfinite(step_after) || pts[i - 1].t_seconds > step_after)) {
        step_after = pts[i - 1].t_seconds;
      }
    }
  }
  if (std::isfinite(step_after)) f.landed_before_seconds = step_after;
  f.growth = forecast_growth(pts, t_.forecast_window_seconds, 3, 0.8, step_after);
  // Growth that has just started (or sped up) is a kink the window's line
  // cuts across: it fits badly, or too flat. The last second alone (four
  // samples or more once the engine watches) shows the new rate; where it
  // is steeper, it is the one that may be right.
  const GrowthForecast recent = forecast_growth(pts, t_.recent_window_seconds, 4, 0.8, step_after);
  if (recent.valid && recent.slope_bytes_per_s > 0 &&
      (!f.growth.valid || recent.slope_bytes_per_s > f.growth.slope_bytes_per_s)) {
    const double upper =
        std::max(f.growth.valid ? f.growth.slope_upper_bytes_per_s : 0.0, recent.slope_bytes_per_s);
    if (!f.growth.valid) f.growth = recent;
    f.growth.slope_upper_bytes_per_s = upper;
  }
  // The trend must hold in the last few samples too: a load that just
  // finished still tilts a 10 s line upwards, but is no longer growing.
  // Judged over the last second at least: with fast sampling, one step of
  // a quarter second is within the counters' noise.
  if (pts.size() >= 2) {
    size_t ia = pts.size() - 2;
    while (ia > 0 && pts.back().t_seconds - pts[ia].t_seconds < t_.sample_interval_seconds - 1e-6)
      --ia;
    // Not across the drop of a landed action: from the first sample after it.
    while (ia + 1 < pts.size() && pts[ia].t_seconds <= step_after) ++ia;
    const auto& a = pts[ia];
    const auto& b = pts.back();
    const double step = static_cast<double>(b.used_bytes) - static_cast<double>(a.used_bytes);
    // One sample after the drop says nothing yet: the fit (which models
    // the drop) decides alone.
    f.still_growing = ia + 1 == pts.size() ||
                      step > 0.25 * f.growth.slope_bytes_per_s * (b.t_seconds - a.t_seconds);
  }
  f.seconds_to_threshold =
      f.growth.seconds_to(bytes_at_percent(g.total_bytes, p_.auto_offload_threshold), g.used_bytes);
  f.seconds_to_oom = f.growth.seconds_to(g.total_bytes, g.used_bytes);
  return f;
}

// The interval until the next sample. While an OOM may be near (the
// forecast's earliest OOM, or the last step's rise taken as a rate, is
// within reload_seconds + watch_seconds), and for watch_seconds after, it
// is the fast one: the last moment to act must not fall between two
// samples of the configured interval, and just after an action freed
// memory the fit has too few points to judge the growth that goes on.
bool Pass::can_sample_faster() const {
  return t_.fast_sample_seconds > 0 && t_.fast_sample_seconds < t_.sample_interval_seconds;
}

double Pass::watch(const GpuState& g, const GpuForecast& f) {
  const double slow = t_.sample_interval_seconds;
  if (!can_sample_faster()) return slow;
  const double horizon = reload_s_ + t_.watch_seconds;
  bool near = f.growth.earliest_seconds_to(g.total_bytes, g.used_bytes) <= horizon;
  if (!history_.empty()) {
    for (const auto& hg : history_.back().gpus) {
      if (hg.index != g.index || hg.used_bytes >= g.used_bytes) continue;
      const double dt = in_.now_seconds - history_.back().now_seconds;
      const double rate = static_cast<double>(g.used_bytes - hg.used_bytes) / std::max(dt, 1e-3);
      near = near || static_cast<double>(g.total_bytes - std::min(g.used_bytes, g.total_bytes)) <=
                         rate * horizon;
    }
  }
  if (near) st_.watch_until[g.index] = in_.now_seconds + t_.watch_seconds;
  if (in_.now_seconds >= st_.watch_until[g.index]) return slow;
  request_sample(t_.fast_sample_seconds);
  return t_.fast_sample_seconds;
}

}  // namespace memopt::policy::engine_detail
