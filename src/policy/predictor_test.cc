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

}  // namespace
}  // namespace memopt::policy
