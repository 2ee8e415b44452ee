#include "policy/workload_runs.h"

#include <gtest/gtest.h>

#include "util/bytes.h"

namespace memopt::policy {
namespace {

snapshot::Workload server(int pid, uint64_t vram, const std::string& model = "/m/qwen3-8b.gguf") {
  snapshot::Workload w;
  w.runtime = "llama.cpp";
  w.command = "llama-server";
  w.pid = pid;
  w.model_files = {model};
  w.context_tokens = 8192;
  if (vram > 0) w.vram = {{0, vram}};
  return w;
}

snapshot::Snapshot with(std::vector<snapshot::Workload> ws) {
  snapshot::Snapshot s;
  s.workloads = std::move(ws);
  return s;
}

TEST(WorkloadRunTrackerTest, ARunSeenFromItsStartIsReturnedWhenGoneTwice) {
  WorkloadRunTracker t;
  EXPECT_TRUE(t.observe(with({}), 10).empty());
  EXPECT_TRUE(t.observe(with({server(100, 0)}), 11).empty());
  EXPECT_TRUE(t.observe(with({server(100, 2 * kGiB)}), 12).empty());
  EXPECT_TRUE(t.observe(with({server(100, 5 * kGiB)}), 14).empty());
  EXPECT_TRUE(t.observe(with({server(100, 5 * kGiB)}), 15).empty());  // flat: not kept
  EXPECT_TRUE(t.observe(with({}), 16).empty());  // one miss: a failed scan, not an end
  EXPECT_TRUE(t.observe(with({server(100, 6 * kGiB)}), 17).empty());
  EXPECT_EQ(t.tracked(), 1u);
  EXPECT_TRUE(t.observe(with({}), 18).empty());
  auto ended = t.observe(with({}), 19);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(t.tracked(), 0u);
  EXPECT_EQ(ended[0].gpu, 0);
  EXPECT_EQ(ended[0].signature.model_file, "qwen3-8b.gguf");
  EXPECT_EQ(ended[0].signature.args, "ctx=8192");
  const std::vector<std::pair<double, uint64_t>> want = {
      {1, 2 * kGiB}, {3, 5 * kGiB}, {6, 6 * kGiB}};  // seconds since first seen (11)
  EXPECT_EQ(ended[0].samples, want);

  std::vector<WorkloadProfile> ps;
  learn(ps, ended[0]);
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].expected_peak_bytes(), 6 * kGiB);
  EXPECT_DOUBLE_EQ(ps[0].ramp_seconds, 6);  // 90 % of 6 GiB first held at 6 s
}

TEST(WorkloadRunTrackerTest, ARunAlreadyGoingWhenTrackingBeganIsNeverLearned) {
  WorkloadRunTracker t;
  t.observe(with({server(100, 4 * kGiB)}), 1);  // the daemon started after it
  t.observe(with({server(100, 5 * kGiB)}), 2);
  t.observe(with({}), 3);
  EXPECT_TRUE(t.observe(with({}), 4).empty());
  EXPECT_EQ(t.tracked(), 0u);
}

TEST(WorkloadRunTrackerTest, APidReusedByAnotherProgramEndsTheFirstRun) {
  WorkloadRunTracker t;
  t.observe(with({}), 0);
  t.observe(with({server(100, 3 * kGiB, "/m/a.gguf")}), 1);
  auto ended = t.observe(with({server(100, 1 * kGiB, "/m/b.gguf")}), 2);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].signature.model_file, "a.gguf");
  EXPECT_EQ(ended[0].samples.back().second, 3 * kGiB);
  EXPECT_EQ(t.tracked(), 1u);  // b.gguf is followed from now
}

TEST(WorkloadRunTrackerTest, OneRunPerGpuAndNothingForAnUnnamedInterpreter) {
  WorkloadRunTracker t;
  t.observe(with({}), 0);
  auto two = server(7, 0);
  two.vram = {{0, 3 * kGiB}, {1, 2 * kGiB}};
  snapshot::Workload py;
  py.runtime = "pytorch";
  py.command = "python3";
  py.pid = 8;
  py.vram = {{0, kGiB}};
  t.observe(with({two, py}), 1);
  EXPECT_EQ(t.tracked(), 1u);  // "python3" alone names no program
  t.observe(with({}), 2);
  auto ended = t.observe(with({}), 3);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0].gpu, 0);
  EXPECT_EQ(ended[0].samples.back().second, 3 * kGiB);
  EXPECT_EQ(ended[1].gpu, 1);
  EXPECT_EQ(ended[1].samples.back().second, 2 * kGiB);
}

TEST(WorkloadRunTrackerTest, BoundedInWorkloadsAndSamples) {
  WorkloadRunTracker t;
  t.observe(with({}), 0);
  std::vector<snapshot::Workload> many;
  for (int pid = 1; pid <= 300; ++pid) many.push_back(server(pid, kGiB));
  t.observe(with(many), 1);
  EXPECT_EQ(t.tracked(), WorkloadRunTracker::kMaxTracked);

  WorkloadRunTracker u;
  u.observe(with({}), 0);
  const size_t n = WorkloadRunTracker::kMaxSamples + 100;
  for (size_t i = 0; i < n; ++i) {
    // Alternating values: every sample differs from the one before.
    u.observe(with({server(5, (i % 2 ? 2 : 1) * kGiB + i)}), 1 + static_cast<double>(i));
  }
  u.observe(with({}), 1e6);
  auto ended = u.observe(with({}), 1e6 + 1);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].samples.size(), WorkloadRunTracker::kMaxSamples);
  // The last kept sample holds the highest value seen past the bound.
  EXPECT_EQ(ended[0].samples.back().second, 2 * kGiB + (n - 1));
}

}  // namespace
}  // namespace memopt::policy
