#include "util/bytes.h"

#include <gtest/gtest.h>

namespace memopt {
namespace {

TEST(Bytes, FormatsBinaryUnits) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(3 * kGiB / 2), "1.5 GiB");
  EXPECT_EQ(format_bytes(24 * kGiB), "24.0 GiB");
}

TEST(Bytes, ParsesUserSizes) {
  EXPECT_EQ(parse_bytes("24GiB").value(), 24 * kGiB);
  EXPECT_EQ(parse_bytes("24G").value(), 24 * kGiB);
  EXPECT_EQ(parse_bytes("512 MiB").value(), 512 * kMiB);
  EXPECT_EQ(parse_bytes("1.5gb").value(), 3 * kGiB / 2);
  EXPECT_EQ(parse_bytes("4096").value(), 4096u);
}

TEST(Bytes, RejectsBadSizesWithMessage) {
  auto r = parse_bytes("12 parsecs");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown unit"), std::string::npos);
  EXPECT_FALSE(parse_bytes("").ok());
  EXPECT_FALSE(parse_bytes("GiB").ok());
  EXPECT_FALSE(parse_bytes("99999999999999TiB").ok());
}

TEST(Bytes, UsageBar) {
  EXPECT_EQ(usage_bar(50, 100, 10), "[#####.....]");
  EXPECT_EQ(usage_bar(200, 100, 4), "[####]");
  EXPECT_EQ(usage_bar(1, 0, 3), "[...]");
}

TEST(Bytes, BarCellsByRunningTotal) {
  // Three thirds of 10 cells: 3, 4, 3 (running totals 3.33, 6.67, 10 round
  // to 3, 7, 10), never 3+3+3 with a cell lost.
  EXPECT_EQ(bar_cells({100, 100, 100}, 300, 10), (std::vector<int>{3, 4, 3}));
  // Half used: the other half stays free.
  EXPECT_EQ(bar_cells({25, 25}, 100, 20), (std::vector<int>{5, 5}));
  // Past the total: the bar is full, the overflow gets no cell.
  EXPECT_EQ(bar_cells({80, 80, 80}, 100, 10), (std::vector<int>{8, 2, 0}));
  // A part too small for a cell gets none; an unknown total draws nothing.
  EXPECT_EQ(bar_cells({1, 99}, 100, 10), (std::vector<int>{0, 10}));
  EXPECT_EQ(bar_cells({5, 5}, 0, 10), (std::vector<int>{0, 0}));
  // Sums near the top of uint64_t do not wrap around.
  EXPECT_EQ(bar_cells({UINT64_MAX, UINT64_MAX}, 100, 4), (std::vector<int>{4, 0}));
}

}  // namespace
}  // namespace memopt
