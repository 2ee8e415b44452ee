#include "daemon/history.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

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
    ASSERT_TRUE(
        (*h)->write_sample(t, {{"ruvector_gpu_memory_used_bytes", "gpu=\"0\"", double(t * 10)},
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
  std::ofstream(path_)
      << "this is not sqlite at all, just text that is long enough to look like a header....";
  auto h = History::open(path_);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find(path_), std::string::npos) << h.error().message;
  auto none = History::open(dir_ + "/missing-dir/h.db");
  ASSERT_FALSE(none.ok());
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 2026-12-03 22:31:00 UTC: the stamp of a moved-aside file.
constexpr int64_t kNow = 1796337060;

// A file that is not a database at all ("file is not a database"): moved
// aside with a timestamp, untouched; a new history starts and works.
TEST_F(HistoryTest, RecoverMovesAFileThatIsNotADatabaseAside) {
  const std::string junk(8192, 'x');
  std::ofstream(path_) << junk;
  HistoryOpen r = History::open_or_recover(path_, {}, kNow);
  ASSERT_TRUE(r.history) << r.error;
  EXPECT_EQ(r.moved_aside, path_ + ".damaged-20261203T223100Z");
  EXPECT_NE(r.moved_reason.find("not a database"), std::string::npos) << r.moved_reason;
  EXPECT_EQ(slurp(r.moved_aside), junk);
  ASSERT_TRUE(r.history->write_sample(100, {{"m", "", 1}}).ok());
  EXPECT_EQ(*r.history->last_timestamp(), 100);
}

// A history cut short (a crash while copying it, a bad sector): moved aside.
TEST_F(HistoryTest, RecoverMovesATruncatedHistoryAside) {
  {
    auto h = History::open(path_);
    ASSERT_TRUE(h.ok());
    std::vector<SeriesValue> many;
    for (int i = 0; i < 400; ++i)
      many.push_back({"m", "i=\"" + std::to_string(i) + "\"", double(i)});
    for (int64_t t = 0; t < 20; ++t) ASSERT_TRUE((*h)->write_sample(1000 + t, many).ok());
  }
  const std::string full = slurp(path_);
  ASSERT_GT(full.size(), 64u * 1024) << "the history must span many pages for the cut to matter";
  std::filesystem::resize_file(path_, full.size() / 2 + 100);  // mid-page
  std::filesystem::remove(path_ + "-wal");
  HistoryOpen r = History::open_or_recover(path_, {}, kNow);
  ASSERT_TRUE(r.history) << r.error;
  EXPECT_FALSE(r.moved_aside.empty()) << "a truncated history was kept in place";
  EXPECT_EQ(*r.history->last_timestamp(), 0);  // a new, empty history
}

// Another program's SQLite database at our path is neither accepted nor
// modified: it is moved aside byte for byte.
TEST_F(HistoryTest, RecoverMovesAForeignDatabaseAsideUnmodified) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(
          db, "CREATE TABLE invoices(id INTEGER, total REAL); INSERT INTO invoices VALUES(1, 9.5);",
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  const std::string before = slurp(path_);
  auto plain = History::open(path_);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message.find("another program's database"), std::string::npos)
      << plain.error().message;
  EXPECT_EQ(slurp(path_), before) << "open() modified a foreign database";
  HistoryOpen r = History::open_or_recover(path_, {}, kNow);
  ASSERT_TRUE(r.history) << r.error;
  ASSERT_FALSE(r.moved_aside.empty());
  EXPECT_EQ(slurp(r.moved_aside), before);
}

// A full disk at start: the file is fine, it cannot be written. History is
// off (with the reason), nothing is moved, and the file is left as it was.
TEST_F(HistoryTest, FullDiskLeavesHistoryOffAndTheFileInPlace) {
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a kill
  struct rlimit tiny = old;
  tiny.rlim_cur = 0;  // every write that grows a file fails, as on a full disk
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &tiny), 0);
  HistoryOpen r = History::open_or_recover(path_, {}, kNow);
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  EXPECT_FALSE(r.history);
  EXPECT_TRUE(r.moved_aside.empty()) << r.moved_aside;
  EXPECT_NE(r.error.find(path_), std::string::npos) << r.error;
  EXPECT_TRUE(std::filesystem::exists(path_));
  // Space again: the same file opens as a history.
  EXPECT_TRUE(History::open_or_recover(path_, {}, kNow).history);
}

// The history path as a symbolic link (to a file another program reads):
// refused, and the link's target is neither chmod-ed nor written.
TEST_F(HistoryTest, NeverFollowsALinkAtItsPath) {
  const std::string target = dir_ + "/someone_elses_file";
  std::ofstream(target) << "keep me";
  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  auto h = History::open(path_);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.error().message.find("symbolic link"), std::string::npos) << h.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(slurp(target), "keep me");
}

TEST_F(HistoryTest, NewHistoryIsPrivate) {
  ASSERT_TRUE(History::open(path_).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// The timelines' ranges: each named range, and a bad one named back.
TEST(HistoryRange, NamedRangesAndABadOne) {
  EXPECT_EQ(*history_range_seconds("5m"), 300);
  EXPECT_EQ(*history_range_seconds("1h"), 3600);
  EXPECT_EQ(*history_range_seconds("24h"), 86400);
  EXPECT_EQ(*history_range_seconds("7d"), 604800);
  auto bad = history_range_seconds("1y");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'1y' is not one of 5m, 1h, 24h, 7d"), std::string::npos);
}

// 600 one-second points into 10 buckets of 60 s: averages at each middle;
// an empty span is left out rather than drawn as 0.
TEST(HistoryRange, DownsampleAveragesEachSpan) {
  std::vector<HistoryPoint> pts;
  for (int64_t t = 1000; t < 1600; ++t) {
    if (t >= 1120 && t < 1180) continue;  // a gap (daemon stopped)
    pts.push_back({t, static_cast<double>(t - 1000)});
  }
  auto d = downsample(pts, 1000, 1599, 10);
  ASSERT_EQ(d.size(), 9u);
  EXPECT_EQ(d[0].ts, 1030);
  EXPECT_DOUBLE_EQ(d[0].value, 29.5);  // mean of 0..59
  EXPECT_EQ(d[2].ts, 1210);            // bucket 2 is the gap, bucket 3 follows
  EXPECT_DOUBLE_EQ(d[2].value, 209.5);
  EXPECT_DOUBLE_EQ(d[8].value, 569.5);
  EXPECT_TRUE(downsample(pts, 1000, 1599, 0).empty());
  // Points outside [from, to] are not counted.
  auto one = downsample(pts, 1590, 1599, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_DOUBLE_EQ(one[0].value, 594.5);
}

}  // namespace
}  // namespace memopt::daemon
