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

TEST(SimulatorTest, TheGpuRunsOutBetweenSamples) {
  // +1 GiB/s into the last 0.5 GiB of an 8 GiB GPU, policy sampled once a
  // second: OOM at 0.5 s, before the next sample. The world's clock, not
  // the policy's samples, decides.
  Trace t;
  t.kind = "context_growth";
  t.gpu_total_bytes = 8ULL << 30;
  t.base_bytes = 7ULL << 30;
  t.other_at = 0;
  t.other_seconds = 1;
  t.other_bytes = 1ULL << 30;
  t.other_bytes += 1ULL << 29;  // 1.5 GiB over 1 s
  t.duration_seconds = 5;
  auto r = run_trace(t, Mode::kNothing, local_llm());
  EXPECT_TRUE(r.oom);
  EXPECT_NEAR(r.oom_at_seconds, 2.0 / 3.0, 0.05);  // 7 + 1.5 t > 8, not at the sample at 1 s
  // Growth that stops 0.3 s short of the end (at its rate) never OOMs, and
  // its slack is measured.
  t.other_bytes = (1ULL << 30) - (1ULL << 30) * 3 / 10;
  t.other_seconds = 0.7;  // 1 GiB/s, stops at 7.7 GiB
  r = run_trace(t, Mode::kNothing, local_llm());
  EXPECT_FALSE(r.oom);
  EXPECT_NEAR(r.min_slack_seconds, 0.3, 0.06);  // one world step of 0.05 s
}

TEST(SimulatorTest, ThePolicyWatchesOnlyWhileAnOomIsNear) {
  auto traces = make_traces(5, kTuningSeed);
  const Profile p = local_llm();
  int growing_fast = 0;
  for (const auto& t : traces) {
    const auto r = run_trace(t, Mode::kPredictive, p);
    EXPECT_GT(r.samples, 100) << t.kind;  // 120 s at 1 s, and more when watching
    growing_fast += r.fast_samples > 0;
  }
  EXPECT_GT(growing_fast, 0);
  // A quiet GPU: one sample a second, never faster.
  Trace quiet;
  quiet.kind = "context_growth";
  quiet.gpu_total_bytes = 24ULL << 30;
  quiet.base_bytes = 2ULL << 30;
  quiet.duration_seconds = 60;
  const auto r = run_trace(quiet, Mode::kPredictive, p);
  EXPECT_EQ(r.samples, 61);
  EXPECT_EQ(r.fast_samples, 0);
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
  // Fewer wasted actions, in share, than the threshold alone.
  EXPECT_LT(all_pred->wasted_actions * all_thr->actions, all_thr->wasted_actions * all_pred->actions);
  // The target of <= 5 % wasted is NOT reached on this set: 32 of
  // 402 actions (8.0 %). 26 of them are in traces whose growth stopped less
  // than an unload (1 s) plus one fast sample (0.25 s) short of OOM: no
  // policy that sees only usage can leave those alone and still save the
  // same traces when their growth goes on. Guard the achieved figure, and
  // that the waste outside that floor stays under 2 %.
  EXPECT_LE(all_pred->wasted_actions * 1000, all_pred->actions * 85);
  EXPECT_LE((all_pred->wasted_actions - all_pred->wasted_too_close) * 100, all_pred->actions * 2);
  EXPECT_GT(all_pred->too_close, 0);
  EXPECT_LE(all_pred->wasted_too_close, all_pred->wasted_actions);
  // The split by kind adds up to the headline count.
  int by_kind = 0;
  for (const auto& [k, n] : all_pred->wasted_by_kind) by_kind += n;
  EXPECT_EQ(by_kind, all_pred->wasted_actions);
  EXPECT_GT(all_pred->wasted_by_kind.count("unload"), 0u);
}

}  // namespace
}  // namespace memopt::policy::sim
