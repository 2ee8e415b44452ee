#include "policy/predictor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace memopt::policy {

double GrowthForecast::seconds_to(uint64_t limit_bytes, uint64_t now_used_bytes) const {
  if (now_used_bytes >= limit_bytes) return 0;
  if (!valid || slope_bytes_per_s <= 0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit_bytes - now_used_bytes) / slope_bytes_per_s;
}

double GrowthForecast::earliest_seconds_to(uint64_t limit_bytes, uint64_t now_used_bytes) const {
  if (now_used_bytes >= limit_bytes) return 0;
  if (!valid || slope_bytes_per_s <= 0) return std::numeric_limits<double>::infinity();
  return static_cast<double>(limit_bytes - now_used_bytes) / std::max(slope_upper_bytes_per_s, slope_bytes_per_s);
}

namespace {

// One-sided 95 % quantile of Student's t for `df` degrees of freedom
// (standard tables, e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2); 1.645 is the
// normal limit used beyond 30.
double t95(int df) {
  static const double kTable[] = {6.314, 2.920, 2.353, 2.132, 2.015, 1.943, 1.895, 1.860, 1.833, 1.812,
                                  1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.740, 1.734, 1.729, 1.725,
                                  1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697};
  if (df < 1) return kTable[0];
  if (df <= 30) return kTable[df - 1];
  return 1.645;
}

}  // namespace

GrowthForecast forecast_growth(const std::vector<UsagePoint>& points, double window_seconds,
                               int min_points, double min_r2, double step_after_seconds) {
  GrowthForecast f;
  if (points.empty()) return f;
  const double t_last = points.back().t_seconds;
  auto in_window = [&](const UsagePoint& p) { return t_last - p.t_seconds <= window_seconds; };
  auto stepped = [&](const UsagePoint& p) { return p.t_seconds > step_after_seconds ? 1.0 : 0.0; };
  // Ordinary least squares y = a + b t (+ c d, d = 1 after the step) over the
  // window, centred on the means for numerical stability (bytes reach 1e11,
  // t^2 sums would lose precision).
  double n = 0, mt = 0, my = 0, md = 0;
  for (const auto& p : points) {
    if (!in_window(p)) continue;
    n += 1;
    mt += p.t_seconds;
    my += static_cast<double>(p.used_bytes);
    md += stepped(p);
  }
  if (n < min_points) return f;
  mt /= n;
  my /= n;
  md /= n;
  double stt = 0, sty = 0, syy = 0, sdd = 0, std_ = 0, sdy = 0;
  for (const auto& p : points) {
    if (!in_window(p)) continue;
    const double dt = p.t_seconds - mt;
    const double dy = static_cast<double>(p.used_bytes) - my;
    const double dd = stepped(p) - md;
    stt += dt * dt;
    sty += dt * dy;
    syy += dy * dy;
    sdd += dd * dd;
    std_ += dt * dd;
    sdy += dd * dy;
  }
  if (stt <= 0) return f;
  // Without a step inside the window the step column is constant (sdd == 0)
  // and this is the plain line fit.
  double slope = sty / stt, step = 0, params = 2;
  double det = stt;  // determinant of the normal equations, per slope variance
  double syy_line = syy;  // variance the line has to explain
  if (sdd > 0) {
    // Two regressors, normal equations [stt std; std sdd] [b c] = [sty sdy]
    // solved by Cramer's rule; the step absorbs what an action freed.
    const double d2 = stt * sdd - std_ * std_;
    if (d2 > 0) {
      slope = (sdd * sty - std_ * sdy) / d2;
      step = (stt * sdy - std_ * sty) / d2;
      params = 3;
      det = d2 / sdd;
      syy_line = syy - sdy * sdy / sdd;  // variance left once the step is removed
    }
  }
  if (n <= params) return f;  // no degree of freedom left to judge the fit
  f.slope_bytes_per_s = slope;
  const double ssr = std::max(0.0, syy - slope * sty - step * sdy);
  // R^2 = explained / total variance of the line part; a flat series
  // (nothing to explain) has no trend.
  f.r2 = syy_line > 0 ? std::clamp(1.0 - ssr / syy_line, 0.0, 1.0) : 0;
  f.valid = f.r2 >= min_r2;
  // Slope standard error: sqrt(sigma^2 * [(X'X)^-1]_bb), sigma^2 = SSR /
  // (n - parameters); for the plain line [(X'X)^-1]_bb = 1 / Stt.
  if (n > params) f.slope_se_bytes_per_s = std::sqrt(ssr / (n - params) / det);
  f.slope_upper_bytes_per_s =
      f.slope_bytes_per_s + t95(static_cast<int>(n - params)) * f.slope_se_bytes_per_s;
  return f;
}

}  // namespace memopt::policy
