#pragma once
// VRAM growth forecaster: a least-squares line through the recent samples of
// one GPU's used bytes gives the growth rate and the time until a limit is
// crossed ("time to OOM"). Pure: samples in, forecast out.
#include <cstdint>
#include <limits>
#include <vector>

namespace memopt::policy {

struct UsagePoint {
  double t_seconds = 0;
  uint64_t used_bytes = 0;
};

struct GrowthForecast {
  bool valid = false;           // enough points and a clear trend
  double slope_bytes_per_s = 0;  // > 0: growing
  double r2 = 0;                // goodness of fit of the line
  // Standard error of the slope from the fit's residuals, and the one-sided
  // 95 % upper bound of the slope (slope + t * se, Student's t with n-2
  // degrees of freedom): a noisy series may be growing faster than its line.
  double slope_se_bytes_per_s = 0;
  double slope_upper_bytes_per_s = 0;
  // Seconds from the last point until the line reaches `limit_bytes`;
  // +inf when not growing or the fit is not trustworthy.
  double seconds_to(uint64_t limit_bytes, uint64_t now_used_bytes) const;
  // The same with the upper bound of the slope: the earliest the limit is
  // plausibly reached (what a policy that must not be late should use).
  double earliest_seconds_to(uint64_t limit_bytes, uint64_t now_used_bytes) const;
};

// Fits the points within `window_seconds` of the last one. Needs at least
// `min_points` and R^2 >= `min_r2`; otherwise the forecast is invalid (a flat
// or noisy series predicts nothing rather than a spurious OOM).
// `step_after_seconds`: points after this time are shifted by an unknown
// constant (an action freed memory there); the fit estimates the shift
// alongside the line, so the drop does not hide the growth that goes on.
GrowthForecast forecast_growth(const std::vector<UsagePoint>& points, double window_seconds,
                               int min_points = 3, double min_r2 = 0.8,
                               double step_after_seconds = std::numeric_limits<double>::infinity());

}  // namespace memopt::policy
