#include "ui/controller.h"

#include <gtest/gtest.h>

#include "ui/terminal.h"

#include "util/bytes.h"

namespace memopt::ui {
namespace {

class FakeSource : public DashboardSource {
 public:
  Result<Dashboard> sample() override {
    ++samples;
    if (fail_next) {
      fail_next = false;
      return make_error("GET http://127.0.0.1:1/api/v1/status: connection refused");
    }
    Dashboard d;
    GpuView g;
    g.used_bytes = used;
    g.total_bytes = 10 * kGiB;
    d.gpus.push_back(g);
    for (const std::string& m : models) {
      WorkloadView w;
      w.runtime = "ollama";
      w.model = m;
      w.kv_used_bytes = kMiB;
      d.workloads.push_back(w);
    }
    return d;
  }
  Result<std::string> unload(const WorkloadView& w) override {
    unloaded.push_back(w.model);
    std::erase(models, w.model);
    return "unloaded " + w.model;
  }
  Result<std::string> next_profile() override { return make_error("401 unauthorized"); }
  Result<std::string> optimize() override {
    ++optimized;
    return std::string("2 actions");
  }

  std::vector<std::string> models = {"a", "b", "c"};
  std::vector<std::string> unloaded;
  uint64_t used = kGiB;
  int samples = 0;
  int optimized = 0;
  bool fail_next = false;
};

TEST(WatchController, KeysActOnTheSelectedRowAndRefresh) {
  FakeSource src;
  WatchController c(src, 10);
  c.refresh(0);
  EXPECT_EQ(c.key('j', 1), KeyResult::kContinue);
  EXPECT_EQ(c.key('j', 1), KeyResult::kContinue);
  EXPECT_EQ(c.key('j', 1), KeyResult::kContinue);  // clamped at the last row
  EXPECT_EQ(c.view("").selected, 2);
  c.key('u', 2);
  ASSERT_EQ(src.unloaded, std::vector<std::string>{"c"});
  EXPECT_EQ(c.view("").message, "unloaded c");
  // The refresh after the action shows two rows, and the selection follows.
  EXPECT_EQ(c.dashboard().workloads.size(), 2u);
  EXPECT_EQ(c.view("").selected, 1);
  c.key('k', 3);
  c.key('u', 3);
  EXPECT_EQ(src.unloaded, (std::vector<std::string>{"c", "a"}));
  c.key('p', 4);
  EXPECT_EQ(c.view("").message, "401 unauthorized");
  c.key('o', 5);
  EXPECT_EQ(src.optimized, 1);
  EXPECT_EQ(c.key('q', 6), KeyResult::kQuit);
}

TEST(WatchController, KeepsItsOwnHistoryAndTheLastReadingOnFailure) {
  FakeSource src;
  WatchController c(src, 3);
  for (int i = 0; i < 5; ++i) {
    src.used = static_cast<uint64_t>(i + 1) * kGiB;
    c.refresh(i);
  }
  ASSERT_EQ(c.dashboard().history.size(), 3u);  // the ring's capacity
  EXPECT_EQ(c.dashboard().history.back().vram_used_bytes, 5 * kGiB);
  EXPECT_EQ(c.dashboard().history.front().t_seconds, 2);
  EXPECT_EQ(c.dashboard().history.back().kv_used_bytes, 3 * kMiB);
  src.fail_next = true;
  c.refresh(6);
  EXPECT_EQ(c.dashboard().gpus.at(0).used_bytes, 5 * kGiB);  // last good reading kept
  ASSERT_EQ(c.dashboard().warnings.size(), 1u);
  EXPECT_NE(c.dashboard().warnings[0].find("connection refused"), std::string::npos);
}

TEST(WatchController, UnloadWithNothingSelected) {
  FakeSource src;
  src.models.clear();
  WatchController c(src, 3);
  c.refresh(0);
  c.key('u', 1);
  EXPECT_TRUE(src.unloaded.empty());
  EXPECT_EQ(c.view("").message, "nothing to unload");
}

TEST(NextBuiltinProfile, CyclesTheSeedsThree) {
  EXPECT_EQ(next_builtin_profile("local_llm"), "batch_inference");
  EXPECT_EQ(next_builtin_profile("batch_inference"), "image_generation");
  EXPECT_EQ(next_builtin_profile("image_generation"), "local_llm");
  EXPECT_EQ(next_builtin_profile("custom"), "local_llm");
}

TEST(NeedsPlainMode, DumbOrNoTty) {
  EXPECT_TRUE(needs_plain_mode(nullptr, true));
  EXPECT_TRUE(needs_plain_mode("dumb", true));
  EXPECT_TRUE(needs_plain_mode("", true));
  EXPECT_TRUE(needs_plain_mode("xterm-256color", false));
  EXPECT_FALSE(needs_plain_mode("xterm-256color", true));
}

}  // namespace
}  // namespace memopt::ui
