// The Windows GPU mapping on recorded readings: a laptop with an NVIDIA dGPU,
// an Intel iGPU and the Basic Render Driver, its "GPU Process Memory"
// instances as PDH names them, and the cases where a counter or an adapter
// vanishes between the two reads.
#include "gpu/dxgi_gpus.h"

#include <gtest/gtest.h>

namespace memopt::gpu {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::vector<DxgiAdapterReading> laptop() {
  DxgiAdapterReading nv;
  nv.luid = 0x0000C3A5;
  nv.name = "NVIDIA GeForce RTX 4070 Laptop GPU";
  nv.vendor_id = 0x10DE;
  nv.dedicated_video_bytes = 8060 * kMiB;
  nv.shared_system_bytes = 16297 * kMiB;
  DxgiAdapterReading intel;
  intel.luid = (1ull << 32) | 0x00011D2F;
  intel.name = "Intel(R) UHD Graphics";
  intel.vendor_id = 0x8086;
  intel.dedicated_video_bytes = 128 * kMiB;
  intel.shared_system_bytes = 16297 * kMiB;
  DxgiAdapterReading basic;
  basic.luid = 0x0000D1E0;
  basic.name = "Microsoft Basic Render Driver";
  basic.vendor_id = 0x1414;
  basic.software = true;
  basic.shared_system_bytes = 16297 * kMiB;
  return {nv, intel, basic};
}

std::vector<GpuProcessCounter> counters(std::initializer_list<const char*> names,
                                        uint64_t dedicated, uint64_t shared) {
  std::vector<GpuProcessCounter> out;
  for (const char* n : names) {
    auto c = parse_gpu_process_instance(n);
    EXPECT_TRUE(c) << n;
    if (!c) continue;
    c->dedicated_bytes = dedicated;
    c->shared_bytes = shared;
    out.push_back(*c);
  }
  return out;
}

TEST(DxgiGpus, ParsesCounterInstanceNames) {
  auto c = parse_gpu_process_instance("pid_11204_luid_0x00000001_0x00011D2F_phys_0");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pid, 11204u);
  EXPECT_EQ(c->luid, (1ull << 32) | 0x00011D2F);
  EXPECT_EQ(c->phys, 0u);
  for (const char* bad : {"", "pid_", "pid_12_luid_0x0_0x1_phys_", "_Total",
                          "pid_12_luid_0x00000000_0x0000C3A5_phys_0_eng_3",
                          "pid_-1_luid_0x00000000_0x0000C3A5_phys_0",
                          "pid_99999999999_luid_0x00000000_0x0000C3A5_phys_0",
                          "pid_12_luid_0x000000000_0x0000C3A5_phys_0"}) {
    EXPECT_FALSE(parse_gpu_process_instance(bad)) << bad;
  }
}

TEST(DxgiGpus, AdaptersWithTheirProcessesByLuid) {
  auto c = counters(
      {"pid_4242_luid_0x00000000_0x0000C3A5_phys_0", "pid_77_luid_0x00000001_0x00011D2F_phys_0"},
      3000 * kMiB, 20 * kMiB);
  GpuSnapshot snap;
  append_dxgi_gpus(laptop(), c, /*nvidia_listed=*/false, snap);
  ASSERT_EQ(snap.gpus.size(), 2u);  // the software adapter is not a GPU
  const GpuDevice& nv = snap.gpus[0];
  EXPECT_EQ(nv.vendor, Vendor::kNvidia);
  EXPECT_EQ(nv.backend, "dxgi");
  EXPECT_EQ(nv.uuid, "LUID-00000000-0000c3a5");
  EXPECT_FALSE(nv.integrated);
  EXPECT_EQ(nv.memory_total_bytes, 8060 * kMiB);
  EXPECT_EQ(nv.memory_used_bytes, 3000 * kMiB);
  EXPECT_EQ(nv.memory_free_bytes, 5060 * kMiB);
  ASSERT_EQ(nv.processes.size(), 1u);
  EXPECT_EQ(nv.processes[0].pid, 4242u);
  EXPECT_EQ(nv.processes[0].used_bytes, 3000 * kMiB);
  EXPECT_EQ(nv.processes[0].shared_bytes, 20 * kMiB);
  const GpuDevice& igpu = snap.gpus[1];
  EXPECT_EQ(igpu.vendor, Vendor::kIntel);
  EXPECT_TRUE(igpu.integrated);
  EXPECT_EQ(igpu.memory_total_bytes, 16297 * kMiB);
  EXPECT_EQ(igpu.memory_used_bytes, 3020 * kMiB);  // dedicated + shared on an iGPU
  ASSERT_EQ(igpu.processes.size(), 1u);
  EXPECT_EQ(igpu.processes[0].pid, 77u);
  EXPECT_TRUE(snap.notes.empty());
}

TEST(DxgiGpus, NvidiaAdaptersAreLeftToNvml) {
  GpuSnapshot snap;
  append_dxgi_gpus(laptop(), std::vector<GpuProcessCounter>{}, /*nvidia_listed=*/true, snap);
  ASSERT_EQ(snap.gpus.size(), 1u);
  EXPECT_EQ(snap.gpus[0].vendor, Vendor::kIntel);
}

TEST(DxgiGpus, ACounterWhoseAdapterVanishedIsDroppedAndAnAdapterWithoutCountersIsIdle) {
  // Read between the two calls: the iGPU's adapter went away (driver reset)
  // while its process's counter instance remained; the dGPU had none yet.
  auto adapters = laptop();
  adapters.erase(adapters.begin() + 1);
  auto c = counters({"pid_77_luid_0x00000001_0x00011D2F_phys_0"}, 64 * kMiB, 0);
  GpuSnapshot snap;
  append_dxgi_gpus(adapters, c, false, snap);
  ASSERT_EQ(snap.gpus.size(), 1u);
  EXPECT_EQ(snap.gpus[0].vendor, Vendor::kNvidia);
  EXPECT_TRUE(snap.gpus[0].processes.empty());
  EXPECT_EQ(snap.gpus[0].memory_used_bytes, 0u);
}

TEST(DxgiGpus, CountersThatCannotBeReadLeaveTheAdaptersAndSayWhy) {
  Result<std::vector<GpuProcessCounter>> gone =
      make_error("PdhAddEnglishCounter(\\GPU Process Memory(*)\\Dedicated Usage): no such object");
  GpuSnapshot snap;
  append_dxgi_gpus(laptop(), gone, false, snap);
  ASSERT_EQ(snap.gpus.size(), 2u);
  EXPECT_FALSE(snap.gpus[0].memory_used_bytes.has_value());
  EXPECT_EQ(snap.gpus[0].memory_total_bytes, 8060 * kMiB);
  EXPECT_EQ(snap.gpus[0].unavailable.at("processes"), "GPU Process Memory counters not readable");
  ASSERT_EQ(snap.notes.size(), 1u);
  EXPECT_NE(snap.notes[0].message.find("no such object"), std::string::npos);
  EXPECT_TRUE(snap.notes[0].warning);
}

TEST(DxgiGpus, OneProcessOnTwoNodesOfOneAdapterIsSummed) {
  auto c = counters(
      {"pid_9_luid_0x00000000_0x0000C3A5_phys_0", "pid_9_luid_0x00000000_0x0000C3A5_phys_1"},
      100 * kMiB, 0);
  GpuSnapshot snap;
  append_dxgi_gpus(laptop(), c, false, snap);
  ASSERT_EQ(snap.gpus[0].processes.size(), 1u);
  EXPECT_EQ(snap.gpus[0].processes[0].used_bytes, 200 * kMiB);
}

}  // namespace
}  // namespace memopt::gpu
