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

namespace memopt::gpu {
namespace {

DrmFdinfo client(uint64_t id) {
  DrmFdinfo c;
  c.driver = "xe";
  c.client_id = id;
  return c;
}

TEST(DrmBusy, XeCyclesOverTotalCyclesSummedOverClients) {
  auto a0 = client(1), b0 = client(2);
  a0.engine_cycles["rcs"] = 1000, a0.engine_total_cycles["rcs"] = 10000;
  b0.engine_cycles["rcs"] = 0, b0.engine_total_cycles["rcs"] = 10000;
  b0.engine_cycles["ccs"] = 0, b0.engine_total_cycles["ccs"] = 10000;
  auto a1 = a0, b1 = b0;
  a1.engine_cycles["rcs"] += 300, a1.engine_total_cycles["rcs"] += 1000;  // 30%
  b1.engine_cycles["rcs"] += 200, b1.engine_total_cycles["rcs"] += 1000;  // +20% on rcs
  b1.engine_cycles["ccs"] += 400, b1.engine_total_cycles["ccs"] += 1000;  // 40% on ccs
  auto busy = drm_busy_percent({a0, b0}, {a1, b1}, 0);
  ASSERT_TRUE(busy);
  EXPECT_DOUBLE_EQ(*busy, 50.0);  // the busiest class: rcs 30% + 20%
}

TEST(DrmBusy, EngineNanosecondsOverWallTimeAndCapacity) {
  auto c0 = client(5);
  c0.engine_ns["video"] = 1'000'000;
  c0.engine_capacity["video"] = 2;
  auto c1 = c0;
  c1.engine_ns["video"] += 500'000'000;  // 0.5 s busy in 1 s over 2 engines
  EXPECT_DOUBLE_EQ(*drm_busy_percent({c0}, {c1}, 1'000'000'000), 25.0);
}

TEST(DrmBusy, BackwardsCountersNewClientsAndIdle) {
  auto c0 = client(1);
  c0.engine_ns["gfx"] = 900;
  auto c1 = c0;
  c1.engine_ns["gfx"] = 100;  // went backwards: ignored, not negative
  EXPECT_DOUBLE_EQ(*drm_busy_percent({c0}, {c1}, 1000), 0.0);
  EXPECT_FALSE(drm_busy_percent({c0}, {client(9)}, 1000));   // no baseline for client 9
  EXPECT_DOUBLE_EQ(*drm_busy_percent({c0}, {}, 1000), 0.0);  // no client at all
  auto c2 = c0;
  c2.engine_ns["gfx"] = 900 + 5000;  // more busy time than wall time: clamped
  EXPECT_DOUBLE_EQ(*drm_busy_percent({c0}, {c2}, 1000), 100.0);
}

TEST(DrmFdinfo, ParsesEngineCountersWithoutMistakingThemForRegions) {
  auto info = parse_drm_fdinfo(
      "drm-driver: xe\ndrm-client-id: 3\ndrm-cycles-rcs: 28257900\n"
      "drm-total-cycles-rcs: 7655183225\ndrm-engine-render: 123 ns\n"
      "drm-engine-capacity-video: 2\ndrm-total-vram0: 4 MiB\n");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->engine_cycles.at("rcs"), 28257900u);
  EXPECT_EQ(info->engine_total_cycles.at("rcs"), 7655183225u);
  EXPECT_EQ(info->engine_ns.at("render"), 123u);
  EXPECT_EQ(info->engine_capacity.at("video"), 2u);
  EXPECT_EQ(info->region_bytes.size(), 1u);  // only vram0, not "cycles-rcs"
}

}  // namespace
}  // namespace memopt::gpu
