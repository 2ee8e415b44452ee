// amdgpu and Intel backends on fixture sysfs/procfs trees.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gpu/collect.h"
#include "gpu/gpu_backend.h"
#include "gpu/test_roots.h"

namespace memopt::gpu {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

GpuSnapshot run(std::unique_ptr<GpuBackend> b, const GpuRoots& roots) {
  GpuSnapshot snap;
  DrmClientSweep sweep(roots.proc_root);
  b->sample(snap, sweep);
  return snap;
}

const GpuProcess* find(const GpuDevice& d, uint32_t pid) {
  for (const auto& p : d.processes)
    if (p.pid == pid) return &p;
  return nullptr;
}

TEST(AmdgpuBackend, DiscreteCardFromSysfsHwmonFdinfoAndKfd) {
  auto roots = testing::fixture_roots("amd");
  auto snap = run(make_amdgpu_backend(roots), roots);
  ASSERT_EQ(snap.gpus.size(), 1u);  // card1-DP-1 and renderD128 are not cards
  const GpuDevice& d = snap.gpus[0];
  EXPECT_EQ(d.vendor, Vendor::kAmd);
  EXPECT_EQ(d.name, "AMD GPU [1002:744C]");
  EXPECT_EQ(d.backend_index, 1u);  // card1
  EXPECT_EQ(d.pci_bus_id, "0000:03:00.0");
  EXPECT_EQ(d.uuid, "3a1b2c3d4e5f6071");
  EXPECT_EQ(d.numa_node, 1);
  EXPECT_FALSE(d.integrated);  // KFD: cpu_cores_count 0
  EXPECT_EQ(d.memory_total_bytes, 25753026560u);
  EXPECT_EQ(d.memory_used_bytes, 8589934592u);
  EXPECT_EQ(d.memory_free_bytes, 25753026560u - 8589934592u);
  EXPECT_EQ(d.shared_total_bytes, 33554432000u);
  EXPECT_EQ(d.memory_source, "sysfs");
  EXPECT_EQ(d.utilization_percent, 87u);
  EXPECT_EQ(d.memory_utilization_percent, 40u);
  EXPECT_DOUBLE_EQ(*d.temperature_c, 65.0);
  EXPECT_DOUBLE_EQ(*d.temperature_slowdown_c, 100.0);
  EXPECT_DOUBLE_EQ(*d.temperature_shutdown_c, 105.0);
  EXPECT_DOUBLE_EQ(*d.power_draw_watts, 312.0);
  EXPECT_DOUBLE_EQ(*d.power_limit_watts, 355.0);
  EXPECT_EQ(d.clock_graphics_mhz, 2482u);
  EXPECT_EQ(d.clock_memory_mhz, 1249u);
  EXPECT_EQ(d.pcie_link_gen, 4u);
  EXPECT_EQ(d.pcie_link_width, 16u);
  EXPECT_FALSE(d.throttle);
  EXPECT_TRUE(d.unavailable.count("throttle"));

  // fdinfo 4242 (6 GiB, beats KFD's 1 GiB), 4300 compositor, KFD-only 4700;
  // 4800's KFD entry belongs to another gpu_id.
  ASSERT_EQ(d.processes.size(), 3u);
  EXPECT_EQ(find(d, 4242)->used_bytes, 6 * kGiB);
  EXPECT_EQ(find(d, 4242)->shared_bytes, 2 * kMiB);
  EXPECT_EQ(find(d, 4300)->used_bytes, 256 * kMiB);
  EXPECT_EQ(find(d, 4300)->shared_bytes, 64 * kMiB);
  EXPECT_EQ(find(d, 4700)->used_bytes, 2 * kGiB);
  EXPECT_EQ(find(d, 4700)->kind, ProcessKind::kCompute);
  EXPECT_FALSE(find(d, 4800));
}

TEST(AmdgpuBackend, ApuCountsGttAsGpuMemory) {
  auto roots = testing::fixture_roots("apu");
  auto snap = run(make_amdgpu_backend(roots), roots);
  ASSERT_EQ(snap.gpus.size(), 1u);
  const GpuDevice& d = snap.gpus[0];
  EXPECT_TRUE(d.integrated);
  EXPECT_FALSE(d.numa_node);  // numa_node -1
  EXPECT_EQ(d.memory_total_bytes, 512 * kMiB + 16 * kGiB);
  EXPECT_EQ(d.memory_used_bytes, 256 * kMiB + 12 * kGiB);
  EXPECT_EQ(d.memory_source, "sysfs+gtt");
  EXPECT_DOUBLE_EQ(*d.power_draw_watts, 25.0);  // power1_input fallback
  ASSERT_EQ(d.processes.size(), 1u);
  EXPECT_EQ(d.processes[0].used_bytes, 128 * kMiB);
  // "12 GiB" is not a kernel unit; drm-total-gtt 12288 MiB is used instead.
  EXPECT_EQ(d.processes[0].shared_bytes, 12 * kGiB);
}

TEST(IntelBackend, XeIntegratedAndDiscrete) {
  auto roots = testing::fixture_roots("intel-xe");
  auto snap = run(make_intel_backend(roots), roots);
  ASSERT_EQ(snap.gpus.size(), 2u);
  const GpuDevice& igpu = snap.gpus[0];
  EXPECT_EQ(igpu.backend, "xe");
  EXPECT_TRUE(igpu.integrated);
  // Shared memory: the host's RAM is the pool, not 0 bytes of VRAM.
  EXPECT_EQ(igpu.memory_total_bytes, 65536000ULL * 1024);
  EXPECT_EQ(igpu.memory_free_bytes, 40960000ULL * 1024);
  EXPECT_EQ(igpu.memory_used_bytes, 400 * kMiB + 8 * kMiB);  // client 2 once; stolen not counted
  EXPECT_EQ(igpu.clock_graphics_mhz, 1950u);
  ASSERT_EQ(igpu.processes.size(), 1u);
  EXPECT_EQ(igpu.processes[0].pid, 6200u);
  EXPECT_EQ(igpu.processes[0].used_bytes, 0u);
  EXPECT_EQ(igpu.processes[0].shared_bytes, 408 * kMiB);

  const GpuDevice& arc = snap.gpus[1];
  EXPECT_FALSE(arc.integrated);
  EXPECT_EQ(arc.memory_total_bytes, 12 * kGiB);
  EXPECT_EQ(arc.memory_used_bytes, 8 * kGiB);  // resident beats total
  EXPECT_EQ(arc.memory_source, "fdinfo_sum");
  EXPECT_EQ(arc.numa_node, 0);
  EXPECT_DOUBLE_EQ(*arc.temperature_c, 58.0);
  EXPECT_DOUBLE_EQ(*arc.power_limit_watts, 190.0);
  EXPECT_EQ(arc.pcie_link_width, 8u);
  ASSERT_EQ(arc.processes.size(), 1u);
  EXPECT_EQ(arc.processes[0].used_bytes, 8 * kGiB);
  EXPECT_EQ(arc.processes[0].shared_bytes, 64 * kMiB);
}

TEST(IntelBackend, UtilizationAndPowerNeedTwoSamples) {
  namespace fs = std::filesystem;
  fs::path tmp = fs::temp_directory_path() / ("memopt-intel-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::copy(testing::fixture("intel-xe"), tmp,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  GpuRoots roots{(tmp / "proc").string(), (tmp / "sys").string(), "/nonexistent/libnvidia-ml.so.1"};
  auto backend = make_intel_backend(roots);
  auto sample = [&] {
    GpuSnapshot snap;
    DrmClientSweep sweep(roots.proc_root);
    backend->sample(snap, sweep);
    return snap;
  };
  auto t0 = std::chrono::steady_clock::now();
  auto first = sample();
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_EQ(first.gpus.size(), 2u);
  EXPECT_FALSE(first.gpus[1].utilization_percent);
  EXPECT_NE(first.gpus[1].unavailable.at("utilization_percent").find("previous sample"),
            std::string::npos);
  EXPECT_FALSE(first.gpus[1].power_draw_watts);

  // The Arc's only client spends 500 of 1000 GPU timestamp cycles busy on
  // the render engine; the card uses 2 J.
  std::ofstream(tmp / "proc/6100/fdinfo/7")
      << "drm-driver:\txe\ndrm-client-id:\t21\ndrm-pdev:\t0000:03:00.0\n"
         "drm-resident-vram0:\t8192 MiB\ndrm-cycles-rcs:\t28258400\n"
         "drm-total-cycles-rcs:\t7655184225\n";
  std::ofstream(tmp / "sys/class/drm/card1/device/hwmon/hwmon3/energy1_input") << "1002000000\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto t2 = std::chrono::steady_clock::now();
  auto second = sample();
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_EQ(second.gpus.size(), 2u);
  EXPECT_EQ(second.gpus[1].utilization_percent, 50u);
  ASSERT_TRUE(second.gpus[1].power_draw_watts);
  // 2 J over the time between the two samples, bounded by what we measured.
  double longest = std::chrono::duration<double>(t3 - t0).count();
  double shortest = std::chrono::duration<double>(t2 - t1).count();
  EXPECT_GE(*second.gpus[1].power_draw_watts, 2.0 / longest);
  EXPECT_LE(*second.gpus[1].power_draw_watts, 2.0 / shortest);
  // The integrated GPU's client has no engine counters: idle, not unknown.
  EXPECT_EQ(second.gpus[0].utilization_percent, 0u);
  fs::remove_all(tmp);
}

TEST(Collect, ReusesTheDrmFdIndexBetweenFullSweeps) {
  namespace fs = std::filesystem;
  fs::path tmp = fs::temp_directory_path() / ("memopt-index-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::copy(testing::fixture("amd"), tmp,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  GpuCollector collector(
      GpuRoots{(tmp / "proc").string(), (tmp / "sys").string(), "/nonexistent/libnvidia-ml.so.1"});
  auto pids = [&] {
    std::vector<uint32_t> out;
    GpuSnapshot snap = collector.sample();
    for (const auto& p : snap.gpus.at(0).processes) out.push_back(p.pid);
    return out;
  };
  EXPECT_EQ(pids(), (std::vector<uint32_t>{4242, 4700, 4300}));  // full sweep

  // The compositor exits; a new process opens the GPU.
  fs::remove_all(tmp / "proc/4300");
  fs::create_directories(tmp / "proc/4900/fd");
  fs::create_directories(tmp / "proc/4900/fdinfo");
  fs::create_symlink("/dev/dri/renderD128", tmp / "proc/4900/fd/3");
  std::ofstream(tmp / "proc/4900/fdinfo/3")
      << "drm-driver:\tamdgpu\ndrm-client-id:\t40\ndrm-pdev:\t0000:03:00.0\n"
         "drm-memory-vram:\t1048576 KiB\n";
  // Samples 2..5 re-read only the indexed fds: 4300 is gone at once, 4900 is
  // not seen until the next full sweep (sample 6).
  for (uint64_t i = 1; i < GpuCollector::kFdIndexRefreshSamples; ++i) {
    EXPECT_EQ(pids(), (std::vector<uint32_t>{4242, 4700})) << "sample " << i + 1;
  }
  EXPECT_EQ(pids(), (std::vector<uint32_t>{4242, 4700, 4900}));
  fs::remove_all(tmp);
}

TEST(Collect, NoGpuStillWorksAndSaysWhy) {
  auto snap = collect_gpus(testing::fixture_roots("none"));
  EXPECT_TRUE(snap.gpus.empty());
  ASSERT_EQ(snap.notes.size(), 1u);
  EXPECT_EQ(snap.notes[0].backend, "nvml");
  EXPECT_NE(snap.notes[0].message.find("/nonexistent/libnvidia-ml.so.1"), std::string::npos);
}

TEST(Collect, NumbersGpusAndSortsProcessesLargestFirst) {
  auto snap = collect_gpus(testing::fixture_roots("intel-xe"));
  ASSERT_EQ(snap.gpus.size(), 2u);
  EXPECT_EQ(snap.gpus[0].index, 0u);
  EXPECT_EQ(snap.gpus[1].index, 1u);
  auto amd = collect_gpus(testing::fixture_roots("amd"));
  ASSERT_EQ(amd.gpus.size(), 1u);
  const auto& p = amd.gpus[0].processes;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].pid, 4242u);
  EXPECT_EQ(p[1].pid, 4700u);
  EXPECT_EQ(p[2].pid, 4300u);
  auto mem = process_memory(amd.gpus[0]);
  EXPECT_EQ(mem[0], (std::pair<uint32_t, uint64_t>{4242, 6 * kGiB + 2 * kMiB}));
}

}  // namespace
}  // namespace memopt::gpu
