#include "daemon/history.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace memopt::daemon {
namespace {

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/memopt_hist_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/h.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

TEST_F(HistoryTest, WritesAndQueriesRawPoints) {
  auto h = History::open(path_);
  ASSERT_TRUE(h.ok()) << h.error().message;
  for (int64_t t = 1000; t < 1010; ++t) {
    ASSERT_TRUE((*h)->write_sample(t, {{"ruvector_gpu_memory_used_bytes", "gpu=\"0\"", double(t * 10)},
                                       {"ruvector_gpu_memory_used_bytes", "gpu=\"1\"", 5}})
                    .ok());
  }
  auto q = (*h)->query("ruvector_gpu_memory_used_bytes", "", 1000, 1009);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].labels, "gpu=\"0\"");
  ASSERT_EQ((*q)[0].points.size(), 10u);
  EXPECT_EQ((*q)[0].points[3].ts, 1003);
  EXPECT_EQ((*q)[0].points[3].value, 10030);
  auto one = (*h)->query("ruvector_gpu_memory_used_bytes", "gpu=\"1\"", 1005, 1009, 3);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  ASSERT_EQ((*one)[0].points.size(), 3u);  // newest three
  EXPECT_EQ((*one)[0].points[0].ts, 1007);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(HistoryTest, DownsamplesToMinutesAndPrunesByRetention) {
  HistoryOptions o;
  o.raw_retention_seconds = 120;
  o.retention_days = 1;
  auto h = History::open(path_, o);
  ASSERT_TRUE(h.ok());
  // 10 minutes of 1 s samples: value = minute index.
  const int64_t start = 600000;  // a minute boundary
  for (int64_t t = start; t < start + 600; ++t) {
    ASSERT_TRUE((*h)->write_sample(t, {{"x", "", double((t - start) / 60)}}).ok());
  }
  // Raw points older than 120 s are gone; queries reaching back use minutes.
  auto q = (*h)->query("x", "", start, start + 600);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0].resolution_seconds, 60);
  ASSERT_GE((*q)[0].points.size(), 9u);
  EXPECT_EQ((*q)[0].points[0].ts, start);
  EXPECT_EQ((*q)[0].points[0].value, 0);
  EXPECT_EQ((*q)[0].points[4].value, 4);
  auto raw = (*h)->query("x", "", start + 550, start + 600);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)[0].resolution_seconds, 1);
  // A day and more later the minute averages age out too.
  ASSERT_TRUE((*h)->write_sample(start + 2 * 86400, {{"x", "", 1}}).ok());
  ASSERT_TRUE((*h)->write_sample(start + 2 * 86400 + 61, {{"x", "", 1}}).ok());
  auto old = (*h)->query("x", "", start, start + 600);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->empty());
}

TEST_F(HistoryTest, ActionsRoundTripAndReopen) {
  {
    auto h = History::open(path_);
    ASSERT_TRUE(h.ok());
    policy::Action a;
    a.kind = policy::ActionKind::kReloadFewerLayers;
    a.target = "ollama/qwen";
    a.runtime = "ollama";
    a.model = "qwen";
    a.gpu = 1;
    a.gpu_layers = 20;
    a.expected_bytes = 123456789;
    a.predictive = true;
    a.reason = "because";
    a.outcome = "dry-run";
    ASSERT_TRUE((*h)->write_action({5000, a, false}).ok());
  }
  auto h = History::open(path_);
  ASSERT_TRUE(h.ok());
  auto acts = (*h)->recent_actions(10);
  ASSERT_TRUE(acts.ok());
  ASSERT_EQ(acts->size(), 1u);
  const auto& r = (*acts)[0];
  EXPECT_EQ(r.ts_ms, 5000);
  EXPECT_EQ(r.action.kind, policy::ActionKind::kReloadFewerLayers);
  EXPECT_EQ(r.action.expected_bytes, 123456789u);
  EXPECT_TRUE(r.action.predictive);
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.action.reason, "because");
}

TEST_F(HistoryTest, RefusesAFileThatIsNotAHistory) {
  std::ofstream(path_) << "this is not sqlite at all, just text that is long enough to look like a header....";
  auto h = History::open(path_);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find(path_), std::string::npos) << h.error().message;
  auto none = History::open(dir_ + "/missing-dir/h.db");
  ASSERT_FALSE(none.ok());
}

}  // namespace
}  // namespace memopt::daemon
