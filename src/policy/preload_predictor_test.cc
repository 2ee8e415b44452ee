#include "policy/preload_predictor.h"

#include <gtest/gtest.h>

#include <cmath>

namespace memopt::policy {
namespace {

constexpr int64_t kMonday = 1767571200;  // 2026-01-05 00:00 UTC
constexpr int64_t kHour = 3600, kDay = 86400, kWeek = 7 * kDay;

PreloadPredictorOptions no_decay() {
  PreloadPredictorOptions o;
  o.half_life_days = 1e9;
  return o;
}

double sum(const std::vector<PreloadGuess> &g) {
  double s = 0;
  for (const auto &x : g) s += x.probability;
  return s;
}

TEST(PreloadPredictorTest, HourOfWeekStartsMondayUtc) {
  EXPECT_EQ(hour_of_week(kMonday), 0);
  EXPECT_EQ(hour_of_week(kMonday + kHour + 59), 1);
  EXPECT_EQ(hour_of_week(kMonday + 6 * kDay + 23 * kHour + 1800), 167);
  EXPECT_EQ(hour_of_week(kMonday + kWeek), 0);
  EXPECT_EQ(hour_of_week(0), 72);  // 1970-01-01 was a Thursday
  EXPECT_EQ(hour_of_week(-1), 71);
}

TEST(PreloadPredictorTest, NothingObservedPredictsNothing) {
  PreloadPredictor p;
  EXPECT_TRUE(p.predict(kMonday).empty());
  EXPECT_EQ(p.probability("x", kMonday), 0);
}

TEST(PreloadPredictorTest, LearnsTimeOfWeek) {
  PreloadPredictor p(no_decay());
  for (int week = 0; week < 4; ++week) {
    for (int day = 0; day < 5; ++day) {
      const int64_t d0 = kMonday + week * kWeek + day * kDay;
      for (int i = 0; i < 3; ++i) p.observe("code", d0 + 9 * kHour + i * 600);
      for (int i = 0; i < 3; ++i) p.observe("chat-large", d0 + 20 * kHour + i * 600);
    }
  }
  // Wednesday of week 5, 08:30 (09:00 is the next hour) and 19:30.
  const int64_t wed = kMonday + 4 * kWeek + 2 * kDay;
  auto morning = p.predict(wed + 8 * kHour + 1800);
  ASSERT_EQ(morning.size(), 2u);
  EXPECT_EQ(morning[0].model, "code");
  // code: 12 requests at 09:00 plus the prior 0.1*60/84 each; chat-large:
  // the prior alone.
  const double prior = 0.1 * 60 / 84.0;
  EXPECT_NEAR(morning[0].probability, (12 + prior) / (12 + 2 * prior), 1e-9);
  EXPECT_NEAR(sum(morning), 1, 1e-12);
  auto evening = p.predict(wed + 19 * kHour + 1800);
  EXPECT_EQ(evening[0].model, "chat-large");
  EXPECT_GT(evening[0].probability, 0.9);
  // Saturday at 09:00 was never seen: both at their overall share (equal).
  EXPECT_NEAR(p.probability("code", kMonday + 4 * kWeek + 5 * kDay + 9 * kHour), 0.5, 1e-9);
}

TEST(PreloadPredictorTest, LearnsSuccessionAndForgetsItOnceTheGapIsPast) {
  PreloadPredictor p(no_decay());
  // Ten times: "embed", then "chat" 60 s later (bucket 2 of 30 s buckets).
  for (int i = 0; i < 10; ++i) {
    const int64_t t = kMonday + i * kDay + 10 * kHour;
    p.observe("embed", t);
    p.observe("chat", t + 60);
  }
  const int64_t t = kMonday + 10 * kDay + 10 * kHour;
  p.observe("embed", t);
  // 30 s later: 10 of the 11 embed requests were followed by chat within
  // the rest of the window; the 11th (this one) by nothing yet.
  const double tow_chat = p.probability("chat", t + 400);  // outside the window
  EXPECT_GT(tow_chat, 0.3);
  EXPECT_LT(tow_chat, 0.7);
  EXPECT_NEAR(p.probability("chat", t + 30), 10.0 / 11 + (1.0 / 11) * tow_chat, 1e-9);
  EXPECT_EQ(p.predict(t + 30)[0].model, "chat");
  // 90 s later: chat always came at 60 s, so it is not coming from this
  // embed any more; only the time of week is left.
  EXPECT_NEAR(p.probability("chat", t + 90), tow_chat, 1e-9);
}

TEST(PreloadPredictorTest, OldDemandDecays) {
  PreloadPredictorOptions o;
  o.half_life_days = 7;
  PreloadPredictor decaying(o), keeping(no_decay());
  for (auto *p : {&decaying, &keeping}) {
    // Ten requests for "old" on a Monday at 10:00, eight weeks ago; two for
    // "new" at the same hour last week.
    for (int i = 0; i < 10; ++i) p->observe("old", kMonday + 10 * kHour + i * 400);
    for (int i = 0; i < 2; ++i) p->observe("new", kMonday + 7 * kWeek + 10 * kHour + i * 400);
  }
  const int64_t next = kMonday + 8 * kWeek + 10 * kHour;
  EXPECT_EQ(keeping.predict(next)[0].model, "old");
  EXPECT_EQ(decaying.predict(next)[0].model, "new");
  // 2 against 10 * 2^-7 (weeks of half-life): about 0.96 (the prior aside).
  EXPECT_GT(decaying.probability("new", next), 0.9);
  EXPECT_LT(keeping.probability("new", next), 0.2);
}

TEST(PreloadPredictorTest, BoundedAndSaneOnHostileTimes) {
  PreloadPredictorOptions o;
  o.max_models = 3;
  PreloadPredictor p(o);
  p.observe("a", kMonday);
  p.observe("a", kMonday + 10);
  p.observe("b", kMonday + 20);
  p.observe("b", kMonday + 30);
  p.observe("c", kMonday + 40);
  p.observe("d", kMonday + 50);  // forgets "c", the least requested
  EXPECT_EQ(p.models(), 3u);
  EXPECT_EQ(p.probability("c", kMonday + 60), 0);
  EXPECT_GT(p.probability("d", kMonday + 60), 0);
  // Time going backwards, a century's gap, and the far past.
  p.observe("a", kMonday - 1000000);
  p.observe("b", kMonday + int64_t{100} * 365 * kDay);
  p.observe("a", kMonday + int64_t{100} * 365 * kDay + 5);
  for (int64_t when : {int64_t{0}, kMonday, kMonday + int64_t{200} * 365 * kDay}) {
    auto g = p.predict(when);
    ASSERT_EQ(g.size(), 3u);
    for (const auto &x : g) {
      EXPECT_TRUE(std::isfinite(x.probability));
      EXPECT_GE(x.probability, 0);
    }
    EXPECT_NEAR(sum(g), 1, 1e-9);
  }
  EXPECT_EQ(p.observed(), 9u);
}

}  // namespace
}  // namespace memopt::policy
