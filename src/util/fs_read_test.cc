// The bounded readers on the real /proc and /sys of the machine running the
// tests, and on files that vanish or are too large.
#include "util/fs_read.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace memopt {
namespace {

TEST(FsRead, ProcessNameOfThisProcessAndOfAPidThatIsGone) {
  EXPECT_EQ(process_name("/proc", static_cast<uint32_t>(::getpid())), "test_util");
  EXPECT_EQ(process_name("/proc", 4'000'000'000u), "");
}

TEST(FsRead, StopsAtTheLimitAndParsesStrictly) {
  std::string path = ::testing::TempDir() + "/memopt-big-" + std::to_string(::getpid());
  {
    std::ofstream f(path);
    f << std::string(200 * 1024, '7');
  }
  auto text = read_small_file(path);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->size(), kSmallFileLimit);
  EXPECT_FALSE(read_u64(path));  // 200 KiB of digits: over the limit and not a u64
  std::remove(path.c_str());
  EXPECT_FALSE(read_small_file(path));
  EXPECT_EQ(parse_u64(" 0x1002\n"), 0x1002u);
  EXPECT_FALSE(parse_u64("12 34"));
  EXPECT_EQ(parse_i64("-1"), -1);
  EXPECT_FALSE(parse_pid("00"));
  EXPECT_FALSE(parse_pid("12a"));
  EXPECT_FALSE(parse_pid("99999999999"));
  EXPECT_EQ(parse_pid("4242"), 4242u);
}

}  // namespace
}  // namespace memopt
