#include "gpu/drm_fdinfo.h"

#include <gtest/gtest.h>

#include "gpu/test_roots.h"

namespace memopt::gpu {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

TEST(DrmSize, AcceptsTheThreeKernelUnits) {
  EXPECT_EQ(parse_drm_size("4096"), 4096u);
  EXPECT_EQ(parse_drm_size(" 8 KiB"), 8192u);
  EXPECT_EQ(parse_drm_size("8 kB"), 8192u);  // old amdgpu spelling of KiB
  EXPECT_EQ(parse_drm_size("6144 MiB"), 6144 * kMiB);
}

TEST(DrmSize, RejectsUnknownUnitsGarbageAndOverflow) {
  EXPECT_FALSE(parse_drm_size("12 GiB"));  // the kernel never prints GiB
  EXPECT_FALSE(parse_drm_size("KiB"));
  EXPECT_FALSE(parse_drm_size("-5"));
  EXPECT_FALSE(parse_drm_size("12abc"));
  EXPECT_FALSE(parse_drm_size("18446744073709551615 MiB"));
  EXPECT_FALSE(parse_drm_size("99999999999999999999999"));
}

TEST(DrmFdinfo, PrefersResidentThenLegacyAliasThenTotal) {
  auto info = parse_drm_fdinfo(
      "drm-driver:\tamdgpu\ndrm-client-id:\t7\ndrm-pdev:\t0000:03:00.0\n"
      "drm-total-vram:\t6291456 KiB\ndrm-resident-vram:\t6000 MiB\ndrm-memory-vram:\t1 KiB\n"
      "drm-memory-gtt: \t2048 KiB\ndrm-total-gtt:\t4 MiB\n"
      "drm-total-vram0:\t9 MiB\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->driver, "amdgpu");
  EXPECT_EQ(info->pdev, "0000:03:00.0");
  EXPECT_EQ(info->client_id, 7u);
  EXPECT_EQ(info->region_bytes.at("vram"), 6000 * kMiB);
  EXPECT_EQ(info->region_bytes.at("gtt"), 2 * kMiB);  // the "gtt: \t" quirk parses
  EXPECT_EQ(info->region_bytes.at("vram0"), 9 * kMiB);
}

TEST(DrmFdinfo, NotADrmClientWithoutDriver) {
  EXPECT_FALSE(parse_drm_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t25\n"));
  EXPECT_FALSE(parse_drm_fdinfo(""));
  EXPECT_FALSE(parse_drm_fdinfo("drm-driver:\n"));
}

TEST(DrmFdinfo, IgnoresEngineAndMalformedLines) {
  auto info = parse_drm_fdinfo(
      "drm-driver: xe\ndrm-engine-rcs: 100 ns\ndrm-cycles-rcs: 5\nnonsense\n:\n"
      "drm-total-: 5\ndrm-total-vram0: lots\n");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->region_bytes.empty());
  EXPECT_FALSE(info->client_id);
}

TEST(DrmClientSweep, CountsEachClientOnceAndSkipsVanishedProcesses) {
  DrmClientSweep sweep(testing::fixture("amd") + "/proc");
  const auto& clients = sweep.clients();
  // 4242 holds client 7 twice and its child 4400 holds it too: one entry,
  // for 4242. 4300 has clients 3 and 4. 4500 and 4600 vanished.
  ASSERT_EQ(clients.size(), 3u);
  auto usage = sweep.usage_for("0000:03:00.0", "amdgpu");
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage.at(4242).at("vram"), 6144 * kMiB);
  EXPECT_EQ(usage.at(4242).at("gtt"), 2 * kMiB);
  EXPECT_EQ(usage.at(4300).at("vram"), 256 * kMiB);
  EXPECT_EQ(usage.at(4300).at("gtt"), 64 * kMiB);
  EXPECT_FALSE(usage.count(4400));
  EXPECT_TRUE(sweep.usage_for("0000:09:00.0", "amdgpu").empty());
}

TEST(DrmClientSweep, MissingProcRootIsEmptyNotAnError) {
  DrmClientSweep sweep("/nonexistent/proc");
  EXPECT_TRUE(sweep.clients().empty());
  EXPECT_TRUE(sweep.swept());
}

}  // namespace
}  // namespace memopt::gpu
