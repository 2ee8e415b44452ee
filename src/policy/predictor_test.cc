#include "policy/predictor.h"

#include <gtest/gtest.h>

#include <cmath>

namespace memopt::policy {
namespace {

TEST(PredictorTest, LinearGrowthGivesSlopeAndTimeToLimit) {
  std::vector<UsagePoint> pts;
  for (int i = 0; i <= 10; ++i) pts.push_back({100.0 + i, 1000u + 50u * i});
  auto f = forecast_growth(pts, 10);
  ASSERT_TRUE(f.valid);
  EXPECT_NEAR(f.slope_bytes_per_s, 50, 1e-9);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
  EXPECT_NEAR(f.seconds_to(2000, 1500), 10.0, 1e-9);
  EXPECT_EQ(f.seconds_to(1000, 1500), 0);
}

TEST(PredictorTest, FlatOrNoisyPredictsNothing) {
  std::vector<UsagePoint> flat;
  for (int i = 0; i < 10; ++i) flat.push_back({double(i), 5000});
  auto f = forecast_growth(flat, 30);
  EXPECT_FALSE(f.valid);
  EXPECT_TRUE(std::isinf(f.seconds_to(6000, 5000)));
  std::vector<UsagePoint> noisy;
  for (int i = 0; i < 10; ++i) noisy.push_back({double(i), i % 2 ? 9000u : 1000u});
  EXPECT_FALSE(forecast_growth(noisy, 30).valid);
}

TEST(PredictorTest, WindowDropsOldPointsAndNeedsEnough) {
  std::vector<UsagePoint> pts = {{0, 0}, {1, 100000}, {50, 100}, {51, 200}, {52, 300}};
  auto f = forecast_growth(pts, 5);
  ASSERT_TRUE(f.valid);
  EXPECT_NEAR(f.slope_bytes_per_s, 100, 1e-9);
  EXPECT_FALSE(forecast_growth({{0, 1}, {1, 2}}, 10).valid);
  EXPECT_FALSE(forecast_growth({}, 10).valid);
}

TEST(PredictorTest, ShrinkingNeverForecastsOom) {
  std::vector<UsagePoint> pts;
  for (int i = 0; i < 8; ++i) pts.push_back({double(i), 10000u - 100u * i});
  auto f = forecast_growth(pts, 10);
  EXPECT_LT(f.slope_bytes_per_s, 0);
  EXPECT_TRUE(std::isinf(f.seconds_to(20000, 9300)));
}

TEST(PredictorTest, ResidualsWidenTheSlopeUpperBound) {
  // Exact line: no residuals, the bound is the slope itself.
  std::vector<UsagePoint> exact;
  for (int i = 0; i < 5; ++i) exact.push_back({double(i), 1000u + 100u * i});
  auto f = forecast_growth(exact, 10);
  EXPECT_NEAR(f.slope_se_bytes_per_s, 0, 1e-9);
  EXPECT_NEAR(f.slope_upper_bytes_per_s, 100, 1e-9);
  EXPECT_NEAR(f.earliest_seconds_to(2000, 1400), 6.0, 1e-9);
  // y = 1000, 1110, 1180, 1310, 1400 at t = 0..4: slope 100, residuals
  // 0, 10, -20, 10, 0 -> SSR 600, Stt 10, se = sqrt(600 / 3 / 10) = 4.472;
  // upper = 100 + 2.353 * 4.472 (t95 with 3 degrees of freedom).
  std::vector<UsagePoint> wobbly = {{0, 1000}, {1, 1110}, {2, 1180}, {3, 1310}, {4, 1400}};
  auto g = forecast_growth(wobbly, 10);
  ASSERT_TRUE(g.valid);
  EXPECT_NEAR(g.slope_bytes_per_s, 100, 1e-9);
  EXPECT_NEAR(g.slope_se_bytes_per_s, std::sqrt(20.0), 1e-9);
  EXPECT_NEAR(g.slope_upper_bytes_per_s, 100 + 2.353 * std::sqrt(20.0), 1e-9);
  EXPECT_LT(g.earliest_seconds_to(2000, 1400), g.seconds_to(2000, 1400));
}

TEST(PredictorTest, StepAfterAnActionKeepsTheSlope) {
  // 100 B/s growth with a 1000 B drop after t = 2 (memory freed there).
  std::vector<UsagePoint> pts = {{0, 5000}, {1, 5100}, {2, 5200}, {3, 4300}, {4, 4400}, {5, 4500}};
  auto plain = forecast_growth(pts, 10);
  EXPECT_FALSE(plain.valid);  // the drop hides the trend from a single line
  auto f = forecast_growth(pts, 10, 3, 0.8, 2.0);
  ASSERT_TRUE(f.valid);
  EXPECT_NEAR(f.slope_bytes_per_s, 100, 1e-9);
  EXPECT_NEAR(f.slope_se_bytes_per_s, 0, 1e-9);
  EXPECT_NEAR(f.seconds_to(5000, 4500), 5.0, 1e-9);
  // Three points with three parameters leave nothing to judge the fit by.
  EXPECT_FALSE(forecast_growth({{0, 10}, {1, 20}, {2, 5}}, 10, 3, 0.8, 1.0).valid);
}

}  // namespace
}  // namespace memopt::policy
