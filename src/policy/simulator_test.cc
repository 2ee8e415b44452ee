#include "policy/simulator.h"

#include <gtest/gtest.h>

#include <iostream>

namespace memopt::policy::sim {
namespace {

Profile local_llm() { return builtin_profiles()[0]; }

TEST(SimulatorTest, NothingPolicyOomsWhenDemandExceedsTheGpu) {
  Trace t;
  t.kind = "game_start";
  t.gpu_total_bytes = 8ULL << 30;
  t.base_bytes = 1ULL << 30;
  SimModel m;
  m.name = "idle";
  m.weights_bytes = 4ULL << 30;
  m.idle_seconds = 100;
  t.models = {m};
  t.other_at = 5;
  t.other_seconds = 10;
  t.other_bytes = 4ULL << 30;  // 1 + 4 + 4 > 8
  EXPECT_TRUE(run_trace(t, Mode::kNothing, local_llm()).oom);
  auto pred = run_trace(t, Mode::kPredictive, local_llm());
  EXPECT_FALSE(pred.oom);
  EXPECT_EQ(pred.actions, 1);
  t.other_bytes = 1ULL << 30;  // 75 % at the end: nothing to do, and nothing done
  EXPECT_FALSE(run_trace(t, Mode::kNothing, local_llm()).oom);
  EXPECT_EQ(run_trace(t, Mode::kPredictive, local_llm()).actions, 0);
}

// The figures the issue asks for (>= 99 % of OOMs prevented, <= 5 % of
// actions wasted), judged on the held-out trace set (a seed no tuning looked
// at) and printed so they can be pasted into the report.
TEST(SimulatorTest, PredictivePolicyOnTheHeldOutSet) {
  auto rows = evaluate(make_traces(200, kHeldOutSeed), local_llm());
  std::cout << format_table(rows);
  const Row* all_pred = nullptr;
  const Row* all_thr = nullptr;
  for (const auto& r : rows) {
    if (r.kind == "all" && r.mode == Mode::kPredictive) all_pred = &r;
    if (r.kind == "all" && r.mode == Mode::kThresholdOnly) all_thr = &r;
  }
  ASSERT_NE(all_pred, nullptr);
  ASSERT_NE(all_thr, nullptr);
  ASSERT_GT(all_pred->oom_without_policy, 100);  // the trace set has real OOMs
  EXPECT_GE(all_pred->prevented * 100, all_pred->oom_without_policy * 99);
  EXPECT_GT(all_pred->prevented, all_thr->prevented);
  // Fewer wasted actions, in share, than the threshold alone (held-out:
  // 15.6 % against 17.9 %).
  EXPECT_LT(all_pred->wasted_actions * all_thr->actions, all_thr->wasted_actions * all_pred->actions);
  // The target of <= 5 % wasted is NOT reached: 80 of 512 actions
  // (15.6 %) are wasted on this set. What is left: growth that stops within
  // the last ~2 s before OOM (the unload must start then to land in time),
  // flat usage inside the 2 % OOM margin, the profile's sustained-95 % rule,
  // and the restores after such actions. Guard the achieved figure.
  EXPECT_LE(all_pred->wasted_actions * 1000, all_pred->actions * 160);
  // The split by kind adds up to the headline count.
  int by_kind = 0;
  for (const auto& [k, n] : all_pred->wasted_by_kind) by_kind += n;
  EXPECT_EQ(by_kind, all_pred->wasted_actions);
  EXPECT_GT(all_pred->wasted_by_kind.count("unload"), 0u);
}

}  // namespace
}  // namespace memopt::policy::sim
