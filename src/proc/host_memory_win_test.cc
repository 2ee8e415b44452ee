// host_memory_from_counters on figures in the units the Windows calls answer
// (bytes from GlobalMemoryStatusEx, 4 KiB pages from GetPerformanceInfo), and
// on inconsistent ones: a reading that cannot be true is an error, not zeros.
#include "proc/host_memory_win.h"

#include <gtest/gtest.h>

namespace memopt::proc {
namespace {

constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kPage = 4096;

WindowsMemoryCounters thirty_two_gib() {
  WindowsMemoryCounters c;
  c.total_phys = 32 * kGiB - 300 * (1ull << 20);  // firmware-reserved RAM is not counted
  c.avail_phys = 19 * kGiB;
  c.page_size = kPage;
  c.physical_total = c.total_phys / kPage;
  c.commit_total = 21 * kGiB / kPage;
  c.commit_limit = (c.total_phys + 8 * kGiB) / kPage;  // an 8 GiB page file
  c.commit_peak = 27 * kGiB / kPage;
  c.system_cache = 6 * kGiB / kPage;
  return c;
}

TEST(HostMemoryWin, MapsRamPageFileAndCommit) {
  auto h = host_memory_from_counters(thirty_two_gib());
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->meminfo.total_bytes, 32 * kGiB - 300 * (1ull << 20));
  EXPECT_EQ(h->meminfo.available_bytes, 19 * kGiB);
  EXPECT_EQ(h->meminfo.cached_bytes, 6 * kGiB);
  EXPECT_EQ(h->meminfo.swap_total_bytes, 8 * kGiB);
  // limit 32 GiB - 300 MiB + 8 GiB, commit 21 GiB: 19 GiB - 300 MiB of
  // headroom, more than the page file, so all 8 GiB of it is free.
  EXPECT_EQ(h->meminfo.swap_free_bytes, 8 * kGiB);
  ASSERT_TRUE(h->commit.has_value());
  EXPECT_EQ(h->commit->total_bytes, 21 * kGiB);
  EXPECT_EQ(h->commit->limit_bytes, 40 * kGiB - 300 * (1ull << 20));
  EXPECT_EQ(h->commit->peak_bytes, 27 * kGiB);
  EXPECT_FALSE(h->pressure.has_value());
  EXPECT_TRUE(h->numa_nodes.empty());
}

TEST(HostMemoryWin, CommitNearTheLimitLeavesLittleOfThePageFileFree) {
  auto c = thirty_two_gib();
  c.commit_total = c.commit_limit - 1 * kGiB / kPage;
  auto h = host_memory_from_counters(c);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->meminfo.swap_free_bytes, 1 * kGiB);
}

TEST(HostMemoryWin, NoPageFileIsNoSwap) {
  auto c = thirty_two_gib();
  c.commit_limit = c.physical_total;
  auto h = host_memory_from_counters(c);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->meminfo.swap_total_bytes, 0u);
  EXPECT_EQ(h->meminfo.swap_free_bytes, 0u);
}

TEST(HostMemoryWin, ImpossibleReadingsAreErrors) {
  auto c = thirty_two_gib();
  c.page_size = 0;
  auto h = host_memory_from_counters(c);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("page size 0"), std::string::npos) << h.error().message;

  c = thirty_two_gib();
  c.avail_phys = c.total_phys + 1;
  EXPECT_FALSE(host_memory_from_counters(c));

  c = thirty_two_gib();
  c.commit_limit = UINT64_MAX / 2;  // pages: times 4096 overflows
  h = host_memory_from_counters(c);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("overflow"), std::string::npos);

  EXPECT_FALSE(host_memory_from_counters(WindowsMemoryCounters{}));
}

}  // namespace
}  // namespace memopt::proc
