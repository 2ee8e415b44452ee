#include "serve/request_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/temp_dir.h"

namespace memopt::serve {
namespace {

constexpr int64_t kMs = 1767571200000;  // 2026-01-05 00:00 UTC

TEST(RequestLog, RoundTripsAndKeepsTheNewest) {
  std::deque<RequestRecord> recs;
  for (int i = 0; i < 5; ++i) {
    recs.push_back({kMs + i * 1000, i % 2 ? "tiny-a" : "qwen3:8b", i == 2 ? "alice@laptop" : ""});
  }
  const std::string text = encode_request_log(recs);
  auto back = decode_request_log(text, "log");
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->size(), 5u);
  EXPECT_EQ((*back)[2].client, "alice@laptop");
  EXPECT_EQ((*back)[2].unix_ms, kMs + 2000);
  EXPECT_EQ((*back)[1].model, "tiny-a");
  EXPECT_EQ((*back)[0].client, "");
  // Bounded: only the newest kRequestLogMaxRecords are written.
  std::deque<RequestRecord> many;
  for (size_t i = 0; i < kRequestLogMaxRecords + 10; ++i) {
    many.push_back({kMs + static_cast<int64_t>(i), "m", ""});
  }
  auto bounded = decode_request_log(encode_request_log(many), "log");
  ASSERT_TRUE(bounded) << bounded.error().message;
  EXPECT_EQ(bounded->size(), kRequestLogMaxRecords);
  EXPECT_EQ(bounded->front().unix_ms, kMs + 10);
}

TEST(RequestLog, ClientLabelKeepsOnlySafeCharacters) {
  EXPECT_EQ(client_label("bob\x1b[31m; rm -rf /"), "bob31mrm-rf");
  EXPECT_EQ(client_label(std::string(200, 'x')).size(), 64u);
  EXPECT_EQ(client_label("\n\t "), "");
}

TEST(RequestLog, DamagedLogsAreErrorsNamingTheLine) {
  const std::string h = "# ruvector-memopt serve request log 1\n";
  const std::pair<std::string, std::string> cases[] = {
      {"SQLite format 3\n", "log:1: not a request log of this program"},
      {h + "1767571200000\n", "log:2: expected \"<unix ms> <model>\""},
      {h + "abc tiny-a\n", "log:2: the time must be unix milliseconds"},
      {h + "99 tiny-a\n", "log:2: the time must be unix milliseconds"},
      {h + "1767571200000 ../etc/passwd\n", "log:2: not a valid model name"},
      {h + "1767571200000 a bad\x1b client\n", "log:2: the client must be"},
      {h + "1767571200000 a\n1767571100000 b\n", "log:3: out of time order"},
      {std::string(kRequestLogMaxBytes + 1, 'x'), "larger than"},
  };
  for (const auto &[text, message] : cases) {
    auto r = decode_request_log(text, "log");
    ASSERT_FALSE(r) << text.substr(0, 80);
    EXPECT_NE(r.error().message.find(message), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(decode_request_log("", "log"));
  EXPECT_TRUE(decode_request_log(h, "log"));
}

TEST(RequestLog, FileStoreIsAtomicPrivateAndRefusesHostileFiles) {
  testing::TempDir dir;
  auto store = file_request_log_store(dir.file("requests.log"));
  auto none = store->load();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(*none, "");
  const std::string text = encode_request_log({{kMs, "tiny-a", ""}});
  ASSERT_TRUE(store->save(text));
  auto got = store->load();
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, text);
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("requests.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A huge file is refused before it is read.
  {
    std::ofstream big(dir.file("big.log"));
    big << std::string(kRequestLogMaxBytes + 100, '1');
  }
  auto big = file_request_log_store(dir.file("big.log"))->load();
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("more than the"), std::string::npos) << big.error().message;
  // A link or a directory at the path is not followed.
  ASSERT_EQ(::symlink("/etc/passwd", dir.file("link.log").c_str()), 0);
  auto link = file_request_log_store(dir.file("link.log"))->load();
  ASSERT_FALSE(link);
  EXPECT_NE(link.error().message.find("not a regular file"), std::string::npos);
}

TEST(RequestLog, HistoryStoreKeepsItInTheDaemonsDatabase) {
  testing::TempDir dir;
  const std::string db = dir.file("history.db");
  const std::string text = encode_request_log({{kMs, "tiny-b", "c1"}});
  {
    auto store = history_request_log_store(db);
    auto none = store->load();
    ASSERT_TRUE(none) << none.error().message;
    EXPECT_EQ(*none, "");
    ASSERT_TRUE(store->save(text));
  }
  auto again = history_request_log_store(db)->load();  // a restart
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, text);
  // Not a database: an error, not a crash.
  {
    std::ofstream junk(dir.file("junk.db"));
    junk << "this is not SQLite";
  }
  auto junk = history_request_log_store(dir.file("junk.db"))->load();
  ASSERT_FALSE(junk);
  EXPECT_NE(junk.error().message.find("junk.db"), std::string::npos) << junk.error().message;
}

}  // namespace
}  // namespace memopt::serve
