#include "serve/preload_sim.h"

#include <gtest/gtest.h>

namespace memopt::serve::preload_sim {
namespace {

TEST(PreloadSimTest, TracesAreReproducibleAndRealistic) {
  const Trace a = make_trace(3), b = make_trace(3), c = make_trace(4);
  ASSERT_EQ(a.requests.size(), b.requests.size());
  for (size_t i = 0; i < a.requests.size(); ++i) {
    ASSERT_EQ(a.requests[i].t, b.requests[i].t);
    ASSERT_EQ(a.requests[i].model, b.requests[i].model);
  }
  EXPECT_NE(a.requests.size(), c.requests.size());
  // Several requests per session, in time order, inside the six weeks.
  size_t sessions = 0;
  for (size_t i = 0; i < a.requests.size(); ++i) {
    sessions += a.requests[i].first_of_session;
    if (i) {
      EXPECT_LE(a.requests[i - 1].t, a.requests[i].t);
    }
  }
  EXPECT_GT(sessions, 500u);
  EXPECT_GT(a.requests.size(), 2 * sessions);
  EXPECT_GE(a.requests.front().t, 1767571200);
  // The budget holds some of the models, not all of them.
  uint64_t all = 0;
  for (const auto &m : a.models) all += m.bytes;
  EXPECT_LT(a.budget_bytes, all);
}

TEST(PreloadSimTest, TuningAndHeldOutSeedsAreDisjoint) {
  for (uint64_t t : tuning_seeds()) {
    for (uint64_t h : held_out_seeds()) EXPECT_NE(t, h);
  }
}

TEST(PreloadSimTest, PreloadingWarmsMoreFirstRequestsThanLru) {
  Outcome lru, adm, pred;
  for (uint64_t seed : {1, 2}) {
    const Trace t = make_trace(seed, 3);
    lru += replay(t, Policy::kLru);
    adm += replay(t, Policy::kAdmission);
    pred += replay(t, Policy::kPredictor);
  }
  EXPECT_EQ(lru.sessions, pred.sessions);
  EXPECT_EQ(lru.preloads, 0u);
  EXPECT_GT(pred.preloads, 0u);
  EXPECT_GT(pred.preloads_used, 0u);
  EXPECT_LE(pred.preloads_used, pred.preloads);
  EXPECT_GT(pred.warm_first_percent(), lru.warm_first_percent() + 5);
  EXPECT_GT(pred.warm_first_percent(), adm.warm_first_percent());
  // Never evicting for a preload: only free memory is used, so it can only
  // help when something was evicted or never loaded.
  Knobs k;
  k.evict_idle_seconds = 0;
  const Outcome free_only = replay(make_trace(1, 3), Policy::kPredictor, k);
  EXPECT_GE(free_only.warm_first, replay(make_trace(1, 3), Policy::kAdmission).warm_first);
}

}  // namespace
}  // namespace memopt::serve::preload_sim
