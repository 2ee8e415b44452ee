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

}  // namespace
}  // namespace memopt
