#include "proc/host_memory.h"

#include <gtest/gtest.h>


namespace memopt::proc {
namespace {

std::string fixture(const std::string& name) {
  return std::string(MEMOPT_SOURCE_DIR) + "/tests/fixtures/gpu/" + name;
}

TEST(HostMemory, RealHostMemoryIsConsistent) {
  auto h = read_host_memory("/proc", "/sys");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_GT(h->meminfo.total_bytes, 0u);
  EXPECT_LE(h->meminfo.available_bytes, h->meminfo.total_bytes);
  EXPECT_LE(h->meminfo.swap_free_bytes, h->meminfo.swap_total_bytes);
}

TEST(Meminfo, ParsesKiBLines) {
  auto m = parse_meminfo(
      "MemTotal:       65536000 kB\nMemFree:  30000000 kB\nMemAvailable:   40960000 kB\n"
      "Cached: 9000000 kB\nSwapTotal:       8388608 kB\nSwapFree:        6291456 kB\n");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->total_bytes, 65536000ULL * 1024);
  EXPECT_EQ(m->available_bytes, 40960000ULL * 1024);
  EXPECT_EQ(m->free_bytes, 30000000ULL * 1024);
  EXPECT_EQ(m->swap_total_bytes, 8388608ULL * 1024);
  EXPECT_EQ(m->swap_free_bytes, 6291456ULL * 1024);
}

TEST(Meminfo, OldKernelWithoutMemAvailableEstimatesIt) {
  auto m = parse_meminfo("MemTotal: 8000 kB\nMemFree: 1000 kB\nBuffers: 500 kB\nCached: 2500 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, 4000ULL * 1024);
}

TEST(Meminfo, RejectsTextWithoutTotals) {
  EXPECT_FALSE(parse_meminfo(""));
  EXPECT_FALSE(parse_meminfo("MemFree: 5 kB\n"));     // no MemTotal
  EXPECT_FALSE(parse_meminfo("MemTotal: 100 kB\n"));  // no MemAvailable nor MemFree
  auto huge = parse_meminfo("MemTotal: 99999999999999999999 kB\nMemFree: 1 kB\n");
  EXPECT_FALSE(huge);  // overflowing value is not a MemTotal
}

TEST(Meminfo, ClampsInconsistentValues) {
  auto m =
      parse_meminfo("MemTotal: 100 kB\nMemAvailable: 200 kB\nSwapTotal: 1 kB\nSwapFree: 9 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->available_bytes, m->total_bytes);
  EXPECT_EQ(m->swap_free_bytes, m->swap_total_bytes);
}

TEST(Pressure, ParsesSomeAndFull) {
  auto p = parse_pressure(
      "some avg10=1.50 avg60=0.75 avg300=0.20 total=1\nfull avg10=0.50 avg60=0.25 avg300=0.05 "
      "total=2\n");
  ASSERT_TRUE(p);
  EXPECT_DOUBLE_EQ(p->some_avg10, 1.5);
  EXPECT_DOUBLE_EQ(p->some_avg300, 0.2);
  EXPECT_DOUBLE_EQ(p->full_avg60, 0.25);
  EXPECT_FALSE(parse_pressure("garbage\n"));
  EXPECT_FALSE(parse_pressure("some avg10=500.0 avg60=1 avg300=1 total=0\n"));
}

TEST(Cpulist, ExpandsRangesAndRejectsNonsense) {
  auto c = parse_cpulist("0-3,8,10-11\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_TRUE(parse_cpulist("")->empty());
  EXPECT_FALSE(parse_cpulist("3-1"));
  EXPECT_FALSE(parse_cpulist("0-99999999"));
  EXPECT_FALSE(parse_cpulist("a-b"));
}

TEST(HostMemory, ReadsFixtureWithNumaAndPressure) {
  auto h = read_host_memory(fixture("amd") + "/proc", fixture("amd") + "/sys");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->meminfo.total_bytes, 65536000ULL * 1024);
  ASSERT_TRUE(h->pressure);
  EXPECT_DOUBLE_EQ(h->pressure->full_avg10, 0.5);
  ASSERT_EQ(h->numa_nodes.size(), 2u);
  EXPECT_EQ(h->numa_nodes[1].id, 1);
  EXPECT_EQ(h->numa_nodes[1].total_bytes, 32768000ULL * 1024);
  EXPECT_EQ(h->numa_nodes[1].free_bytes, 11000000ULL * 1024);
  EXPECT_EQ(h->numa_nodes[0].cpulist, "0-15,32-47");
  EXPECT_EQ(h->numa_nodes[0].cpus.size(), 32u);
}

TEST(HostMemory, MissingMeminfoNamesTheFile) {
  auto h = read_host_memory("/nonexistent/proc", "/nonexistent/sys");
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("/nonexistent/proc/meminfo"), std::string::npos);
}

TEST(HostMemory, NoSwapNoPsiNoNuma) {
  auto h = read_host_memory(fixture("none") + "/proc", fixture("none") + "/sys");
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->pressure);
  EXPECT_TRUE(h->numa_nodes.empty());
  EXPECT_EQ(h->meminfo.swap_total_bytes, 0u);
  EXPECT_EQ(h->meminfo.available_bytes, 4000000ULL * 1024);
}

}  // namespace
}  // namespace memopt::proc
