#include "policy/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "util/bytes.h"

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

// A recorded trace: the daemon's own samples (NVML, an H200) while a
// PyTorch process filled the GPU at 10 GiB/s and stopped 3 GiB short
// (scripts/device-forecast.sh, docs/device-runs/). Replayed through the
// engine: it watches early enough, its time-to-full is right, and it lets go
// of the forecast once the growth has stopped.
TEST(SimulatorTest, ForecastOnARecordedFillOfAnH200) {
  std::ifstream in(std::string(MEMOPT_SOURCE_DIR) + "/docs/device-runs/2026-11-27-h200-forecast.csv");
  ASSERT_TRUE(in.good());
  std::string line;
  std::getline(in, line);  // header: t,used,total,forecast,interval,samples
  struct Point {
    double t;
    uint64_t used, total;
  };
  std::vector<Point> pts;
  double last_count = -1;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
    ASSERT_EQ(f.size(), 6u) << line;
    // The CSV polled /metrics every 0.1 s; a new sample shows as a new count.
    if (f[1].empty() || std::stod(f[5]) == last_count) continue;
    last_count = std::stod(f[5]);
    pts.push_back({std::stod(f[0]), static_cast<uint64_t>(std::stod(f[1])), static_cast<uint64_t>(std::stod(f[2]))});
  }
  ASSERT_GT(pts.size(), 50u);
  // The ramp, from the data: first rise to the top.
  size_t first = 0, top = 0;
  while (first + 1 < pts.size() && pts[first + 1].used <= pts[first].used) ++first;
  for (size_t i = 0; i < pts.size(); ++i) {
    if (pts[i].used > pts[top].used) top = i;
  }
  ASSERT_LT(first, top);
  const double rate = static_cast<double>(pts[top].used - pts[first].used) / (pts[top].t - pts[first].t);
  EXPECT_NEAR(rate / static_cast<double>(kGiB), 10.0, 0.6);
  const double t_full = pts[top].t + static_cast<double>(pts[top].total - pts[top].used) / rate;

  PolicyState st;
  std::vector<PolicyInput> hist;
  std::vector<double> errs;
  double watch_from = -1, forecast_gone = -1;
  for (const auto& p : pts) {
    PolicyInput pi;
    pi.now_seconds = p.t;
    pi.host = {64 * kGiB, 40 * kGiB};
    GpuState g;
    g.total_bytes = p.total;
    g.used_bytes = p.used;
    pi.gpus = {g};
    Decision d = decide(pi, local_llm(), hist, st);
    const auto& fc = d.forecasts.at(0);
    const bool shown = std::isfinite(fc.seconds_to_oom) && fc.still_growing;
    if (p.t > pts[first].t + 2 && p.t <= pts[top].t && shown) errs.push_back(std::fabs(p.t + fc.seconds_to_oom - t_full));
    if (watch_from < 0 && d.next_sample_seconds > 0) watch_from = p.t;
    if (p.t > pts[top].t && !shown && forecast_gone < 0) forecast_gone = p.t;
    hist.push_back(pi);
    while (p.t - hist.front().now_seconds > 30) hist.erase(hist.begin());
  }
  ASSERT_GT(errs.size(), 20u);
  std::sort(errs.begin(), errs.end());
  EXPECT_LT(errs[errs.size() / 2], 0.5) << "median |predicted - actual| time of full";
  ASSERT_GE(watch_from, 0);
  EXPECT_GE(t_full - watch_from, 3.0);  // asked for 0.25 s samples well before
  ASSERT_GE(forecast_gone, 0);
  EXPECT_LE(forecast_gone - pts[top].t, 2.5);
  std::cout << "recorded H200 fill: " << errs.size() << " forecasts, median |error| " << errs[errs.size() / 2]
            << " s; watching from " << t_full - watch_from << " s before full; forecast gone "
            << forecast_gone - pts[top].t << " s after the growth stopped\n";
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
  // 403 actions (7.9 %). 26 of them are in traces whose growth stopped less
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
