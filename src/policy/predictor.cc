#include "policy/predictor.h"

#include <cmath>
#include <limits>

namespace memopt::policy {

double GrowthForecast::seconds_to(uint64_t limit_bytes, uint64_t now_used_bytes) const {
  if (now_used_bytes >= limit_bytes) return 0;
  if (!valid || slope_bytes_per_s <= 0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit_bytes - now_used_bytes) / slope_bytes_per_s;
}

GrowthForecast forecast_growth(const std::vector<UsagePoint>& points, double window_seconds,
                               int min_points, double min_r2) {
  GrowthForecast f;
  if (points.empty()) return f;
  const double t_last = points.back().t_seconds;
  // Ordinary least squares y = a + b t over the window, centred on the means
  // for numerical stability (bytes reach 1e11, t^2 sums would lose precision).
  double n = 0, mt = 0, my = 0;
  for (const auto& p : points) {
    if (t_last - p.t_seconds > window_seconds) continue;
    n += 1;
    mt += p.t_seconds;
    my += static_cast<double>(p.used_bytes);
  }
  if (n < min_points) return f;
  mt /= n;
  my /= n;
  double stt = 0, sty = 0, syy = 0;
  for (const auto& p : points) {
    if (t_last - p.t_seconds > window_seconds) continue;
    const double dt = p.t_seconds - mt;
    const double dy = static_cast<double>(p.used_bytes) - my;
    stt += dt * dt;
    sty += dt * dy;
    syy += dy * dy;
  }
  if (stt <= 0) return f;
  f.slope_bytes_per_s = sty / stt;
  // R^2 = explained / total variance; a flat series (syy == 0) has no trend.
  f.r2 = syy > 0 ? (sty * sty) / (stt * syy) : 0;
  f.valid = f.r2 >= min_r2;
  return f;
}

}  // namespace memopt::policy
