#include "daemon/action_delays.h"

#include <gtest/gtest.h>

#include <limits>

#include "util/bytes.h"

namespace memopt::daemon {
namespace {

policy::ModelState model(const std::string& name, uint64_t vram) {
  policy::ModelState m;
  m.runtime = "ollama";
  m.name = name;
  m.gpu = 0;
  m.vram_bytes = vram;
  return m;
}

policy::Action act(policy::ActionKind k, const std::string& name, uint64_t expected) {
  policy::Action a;
  a.kind = k;
  a.runtime = "ollama";
  a.model = name;
  a.target = "ollama/" + name;
  a.expected_bytes = expected;
  return a;
}

TEST(ActionDelaysTest, AnUnloadIsBackWhenTheRuntimeNoLongerListsTheModel) {
  policy::PolicyInput at;
  at.models = {model("big", 8 * kGiB), model("other", 2 * kGiB)};
  auto w = watch_for(act(policy::ActionKind::kUnload, "big", 8 * kGiB), 10, 1000, 0, at);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->model_vram_bytes, 8 * kGiB);
  EXPECT_FALSE(memory_back(*w, at));
  policy::PolicyInput later;
  later.models = {model("other", 2 * kGiB)};
  EXPECT_TRUE(memory_back(*w, later));
}

TEST(ActionDelaysTest, AReloadIsBackWhenHalfOfWhatItFreesHasGone) {
  policy::PolicyInput at;
  at.models = {model("m", 10 * kGiB)};
  auto w = watch_for(act(policy::ActionKind::kResizeContext, "m", 4 * kGiB), 0, 0, 0, at);
  ASSERT_TRUE(w);
  policy::PolicyInput in;
  in.models = {model("m", 9 * kGiB)};  // 1 GiB less: not yet
  EXPECT_FALSE(memory_back(*w, in));
  in.models = {model("m", 8 * kGiB)};  // 2 GiB less: half of 4
  EXPECT_TRUE(memory_back(*w, in));
  // A restore moves memory back in: no delay to learn; a reload of a model
  // the input did not hold cannot be judged.
  EXPECT_FALSE(watch_for(act(policy::ActionKind::kRestoreLayers, "m", 4 * kGiB), 0, 0, 0, at));
  EXPECT_FALSE(watch_for(act(policy::ActionKind::kReloadFewerLayers, "x", 4 * kGiB), 0, 0, 0, at));
}

TEST(ActionDelaysTest, ImageCachesAreJudgedOnTheRuntimesVram) {
  policy::PolicyInput at;
  policy::ImageGenState ig;
  ig.runtime = "comfyui";
  ig.endpoint = "http://127.0.0.1:8188";
  ig.vram_bytes = 6 * kGiB;
  at.image_gen = {ig};
  policy::Action a = act(policy::ActionKind::kFreeImageCache, "", 6 * kGiB);
  a.runtime = "comfyui";
  a.target = ig.key();
  auto w = watch_for(a, 0, 0, 0, at);
  ASSERT_TRUE(w);
  EXPECT_FALSE(memory_back(*w, at));
  at.image_gen[0].vram_bytes = 1 * kGiB;
  EXPECT_TRUE(memory_back(*w, at));
}

TEST(ActionDelaysTest, SizeClassesDoubleFromTwoGiB) {
  EXPECT_EQ(size_class(0).min_bytes, 0u);
  EXPECT_EQ(size_class(2 * kGiB - 1).max_bytes, 2 * kGiB);
  EXPECT_EQ(size_class(2 * kGiB).min_bytes, 2 * kGiB);
  EXPECT_EQ(size_class(5 * kGiB).min_bytes, 4 * kGiB);
  EXPECT_EQ(size_class(5 * kGiB).max_bytes, 8 * kGiB);
  EXPECT_EQ(size_class(70 * kGiB).min_bytes, 64 * kGiB);
  EXPECT_EQ(size_class(70 * kGiB).max_bytes, 0u);  // open-ended
  EXPECT_EQ(size_class(UINT64_MAX).min_bytes, 64 * kGiB);
}

TEST(ActionDelaysTest, SpreadPerRuntimeKindAndSizeFromTheNewestRecords) {
  std::vector<DelayRecord> recs;
  // Ten unloads of a 4-6 GiB model: 1..10 s, newest first.
  for (int i = 10; i >= 1; --i) {
    recs.push_back({0, "ollama", "unload", "m", 5 * kGiB, 0.1, static_cast<double>(i)});
  }
  recs.push_back({0, "ollama", "unload", "tiny", 1 * kGiB, 0.1, 0.5});
  recs.push_back({0, "ollama", "resize_context", "m", 5 * kGiB, 3, 4.0});
  // Damaged rows are ignored.
  recs.push_back({0, "ollama", "unload", "m", 5 * kGiB, 0, -1});
  recs.push_back(
      {0, "ollama", "unload", "m", 5 * kGiB, 0, std::numeric_limits<double>::quiet_NaN()});
  auto s = summarize_delays(recs);
  ASSERT_EQ(s.size(), 3u);
  const DelaySummary* big = nullptr;
  for (const auto& d : s) {
    if (d.kind == "unload" && d.size.min_bytes == 4 * kGiB) big = &d;
  }
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->count, 10u);
  // As the engine gets them: an open-ended class reaches UINT64_MAX.
  auto stats =
      delay_stats({*big, DelaySummary{"ollama", "unload", size_class(80 * kGiB), 1, 2, 3, 3}});
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].action, "unload");
  EXPECT_EQ(stats[0].min_model_bytes, 4 * kGiB);
  EXPECT_EQ(stats[0].max_model_bytes, 8 * kGiB);
  EXPECT_DOUBLE_EQ(stats[0].p90_seconds, 9);
  EXPECT_EQ(stats[1].max_model_bytes, UINT64_MAX);
  EXPECT_DOUBLE_EQ(big->p50_seconds, 5);  // nearest rank: the 5th of 10
  EXPECT_DOUBLE_EQ(big->p90_seconds, 9);
  EXPECT_DOUBLE_EQ(big->max_seconds, 10);
  // Only the newest `per_group` of a group count: 10, 9, 8.
  auto newest = summarize_delays(recs, 3);
  for (const auto& d : newest) {
    if (d.kind == "unload" && d.size.min_bytes == 4 * kGiB) {
      EXPECT_EQ(d.count, 3u);
      EXPECT_DOUBLE_EQ(d.p50_seconds, 9);
    }
  }
}

}  // namespace
}  // namespace memopt::daemon
