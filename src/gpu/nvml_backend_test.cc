// The NVML backend against fake libnvidia-ml.so.1 builds (tests/fake_nvml),
// loaded through the same dlopen path as a real driver.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include "gpu/gpu_backend.h"
#include "gpu/test_roots.h"

namespace memopt::gpu {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kGiB = 1024 * kMiB;

std::string fake(const std::string& variant) {
  return std::string(MEMOPT_FAKE_NVML_DIR) + "/" + variant + "/libnvidia-ml.so.1";
}

// The backend stays alive (NVML loaded) until the next call, so tests can
// probe the fake library's counters after sampling.
GpuSnapshot sample_with(const std::string& variant) {
  static std::unique_ptr<GpuBackend> backend;
  backend.reset();
  auto roots = testing::fixture_roots("amd", fake(variant));
  backend = make_nvml_backend(roots);
  GpuSnapshot snap;
  DrmClientSweep sweep(roots.proc_root);
  backend->sample(snap, sweep);
  return snap;
}

template <typename T>
T fake_probe(const std::string& variant, const char* symbol) {
  void* h = dlopen(fake(variant).c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!h) return T{};
  auto fn = reinterpret_cast<T (*)()>(dlsym(h, symbol));
  T v = fn ? fn() : T{};
  dlclose(h);
  return v;
}

const GpuProcess* find(const GpuDevice& d, uint32_t pid) {
  for (const auto& p : d.processes)
    if (p.pid == pid) return &p;
  return nullptr;
}

TEST(NvmlBackend, ModernDriverReadsEveryField) {
  auto snap = sample_with("modern");
  ASSERT_EQ(snap.gpus.size(), 3u);  // GPU 3 is lost
  const GpuDevice& d = snap.gpus[0];
  EXPECT_EQ(d.vendor, Vendor::kNvidia);
  EXPECT_EQ(d.name, "NVIDIA GeForce RTX 4090");
  EXPECT_EQ(d.uuid, "GPU-00000000-1111-2222-3333-444444444444");
  EXPECT_EQ(d.pci_bus_id, "0000:41:00.0");
  EXPECT_EQ(d.numa_node, 1);  // from the fixture's /sys/bus/pci/devices
  // v2 memory: used excludes reserved, as nvidia-smi shows it.
  EXPECT_EQ(d.memory_source, "nvml_v2");
  EXPECT_EQ(d.memory_total_bytes, 24 * kGiB);
  EXPECT_EQ(d.memory_used_bytes, 10 * kGiB);
  EXPECT_EQ(d.memory_reserved_bytes, 300 * kMiB);
  EXPECT_EQ(d.memory_free_bytes, 24 * kGiB - 10 * kGiB - 300 * kMiB);
  EXPECT_EQ(fake_probe<unsigned>("modern", "fake_nvml_last_memory_version"), 0x02000028u);
  EXPECT_EQ(d.utilization_percent, 37u);
  EXPECT_DOUBLE_EQ(*d.temperature_c, 62.0);
  EXPECT_DOUBLE_EQ(*d.temperature_slowdown_c, 90.0);
  EXPECT_DOUBLE_EQ(*d.temperature_shutdown_c, 95.0);
  EXPECT_DOUBLE_EQ(*d.power_draw_watts, 250.5);
  EXPECT_DOUBLE_EQ(*d.power_limit_watts, 450.0);
  EXPECT_EQ(d.clock_graphics_mhz, 2520u);
  EXPECT_EQ(d.clock_graphics_max_mhz, 3105u);
  EXPECT_EQ(d.clock_memory_mhz, 10501u);
  ASSERT_TRUE(d.throttle);
  EXPECT_TRUE(d.throttle->power);
  EXPECT_TRUE(d.throttle->thermal);
  EXPECT_FALSE(d.throttle->other);
  EXPECT_EQ(d.pcie_link_gen, 4u);
  EXPECT_EQ(d.mig_enabled, false);
  EXPECT_TRUE(d.unavailable.empty()) << d.unavailable.begin()->first;

  // 40 compute processes (beyond the first 16-entry buffer) + Xorg; pid
  // 1000 is in both lists and counted once with the larger figure.
  EXPECT_GE(fake_probe<int>("modern", "fake_nvml_insufficient_returns"), 1);
  ASSERT_EQ(d.processes.size(), 41u);
  EXPECT_EQ(find(d, 1000)->used_bytes, 64 * kMiB);
  EXPECT_EQ(find(d, 1000)->kind, ProcessKind::kCompute);
  EXPECT_EQ(find(d, 1039)->used_bytes, 40 * 64 * kMiB);
  EXPECT_EQ(find(d, 2000)->used_bytes, 200 * kMiB);
  EXPECT_EQ(find(d, 2000)->kind, ProcessKind::kGraphics);
}

TEST(NvmlBackend, MigGpuReportsModeAndWhyFieldsAreMissing) {
  auto snap = sample_with("modern");
  ASSERT_GE(snap.gpus.size(), 2u);
  const GpuDevice& d = snap.gpus[1];
  EXPECT_EQ(d.mig_enabled, true);
  EXPECT_EQ(d.mig_pending, true);
  EXPECT_EQ(d.memory_total_bytes, 80 * kGiB);  // one unsupported field hides nothing else
  EXPECT_DOUBLE_EQ(*d.temperature_c, 45.0);
  EXPECT_FALSE(d.power_draw_watts);
  EXPECT_NE(d.unavailable.at("power_draw_watts").find("NOT_SUPPORTED"), std::string::npos);
  EXPECT_FALSE(d.utilization_percent);
  // Two slices in slots 0 and 2 (the empty slots answer NOT_FOUND).
  ASSERT_EQ(d.mig_instances.size(), 2u);
  const MigInstance& a = d.mig_instances[0];
  EXPECT_EQ(a.uuid, "MIG-00000010-1111-2222-3333-444444444444");
  EXPECT_EQ(a.gpu_instance_id, 1u);
  EXPECT_EQ(a.compute_instance_id, 0u);
  EXPECT_EQ(a.memory_total_bytes, 40 * kGiB);
  EXPECT_EQ(a.memory_used_bytes, 9 * kGiB);
  ASSERT_EQ(a.processes.size(), 1u);
  EXPECT_EQ(a.processes[0].pid, 7000u);
  EXPECT_EQ(d.mig_instances[1].gpu_instance_id, 2u);
  EXPECT_EQ(d.mig_instances[1].memory_total_bytes, 20 * kGiB);
  EXPECT_TRUE(d.mig_instances[1].processes.empty());
  // The full-GPU lists said NO_PERMISSION; the slices' lists stand in.
  ASSERT_EQ(d.processes.size(), 1u);
  EXPECT_EQ(d.processes[0].pid, 7000u);
  EXPECT_EQ(d.processes[0].used_bytes, 9 * kGiB);
  EXPECT_FALSE(d.unavailable.count("processes"));
}

TEST(NvmlBackend, NonMigGpusHaveNoInstances) {
  auto snap = sample_with("modern");
  ASSERT_EQ(snap.gpus.size(), 3u);
  EXPECT_TRUE(snap.gpus[0].mig_instances.empty());
  EXPECT_TRUE(snap.gpus[2].mig_instances.empty());
}

TEST(NvmlBackend, UnifiedMemoryFallsBackToHostMeminfo) {
  auto snap = sample_with("modern");
  ASSERT_EQ(snap.gpus.size(), 3u);
  const GpuDevice& d = snap.gpus[2];
  EXPECT_EQ(d.name, "NVIDIA GB10");
  EXPECT_EQ(d.backend_index, 2u);
  EXPECT_TRUE(d.integrated);
  EXPECT_EQ(d.memory_source, "host_meminfo");
  EXPECT_EQ(d.memory_total_bytes, 65536000ULL * 1024);
  EXPECT_EQ(d.memory_used_bytes, (65536000ULL - 40960000ULL) * 1024);
  EXPECT_TRUE(d.unavailable.count("memory_reserved_bytes"));
  ASSERT_EQ(d.processes.size(), 2u);
  EXPECT_EQ(find(d, 3000)->used_bytes, 8 * kGiB);
  EXPECT_FALSE(find(d, 3001)->used_bytes);  // NVML_VALUE_NOT_AVAILABLE
}

TEST(NvmlBackend, LostGpuIsANoteNotAFailure) {
  auto snap = sample_with("modern");
  ASSERT_EQ(snap.notes.size(), 1u);
  EXPECT_TRUE(snap.notes[0].warning);
  EXPECT_NE(snap.notes[0].message.find("NVML device 3"), std::string::npos);
  EXPECT_NE(snap.notes[0].message.find("GPU_IS_LOST"), std::string::npos);
}

TEST(NvmlBackend, EarlyR535DriverUses32ByteProcessRecords) {
  auto snap = sample_with("r535");
  ASSERT_EQ(snap.gpus.size(), 3u);
  const GpuDevice& d = snap.gpus[0];
  ASSERT_EQ(d.processes.size(), 41u);
  EXPECT_EQ(find(d, 1020)->used_bytes, 21 * 64 * kMiB);
  EXPECT_EQ(find(d, 2000)->used_bytes, 200 * kMiB);
}

TEST(NvmlBackend, LegacyDriverUsesV1SymbolsAndSays) {
  auto snap = sample_with("legacy");
  ASSERT_EQ(snap.gpus.size(), 1u);
  const GpuDevice& d = snap.gpus[0];
  EXPECT_EQ(d.name, "Tesla K80");
  EXPECT_EQ(d.pci_bus_id, "0000:41:00.0");
  EXPECT_EQ(d.memory_source, "nvml_v1");
  EXPECT_EQ(d.memory_used_bytes, 1 * kGiB);
  EXPECT_TRUE(d.unavailable.count("memory_reserved_bytes"));
  EXPECT_TRUE(d.unavailable.count("temperature_c"));  // symbol absent
  ASSERT_EQ(d.processes.size(), 2u);
  EXPECT_EQ(find(d, 500)->used_bytes, 700 * kMiB);  // 16-byte v1 stride
  EXPECT_EQ(find(d, 501)->used_bytes, 100 * kMiB);
}

TEST(NvmlBackend, MissingLibraryIsAWarningNamingThePath) {
  auto snap = sample_with("does-not-exist");
  EXPECT_TRUE(snap.gpus.empty());
  ASSERT_EQ(snap.notes.size(), 1u);
  EXPECT_TRUE(snap.notes[0].warning);
  EXPECT_NE(snap.notes[0].message.find("does-not-exist/libnvidia-ml.so.1"), std::string::npos);
}

TEST(NvmlBackend, NotAnNvmlLibraryIsRejectedCleanly) {
  auto roots = testing::fixture_roots("amd", "libm.so.6");
  auto backend = make_nvml_backend(roots);
  GpuSnapshot snap;
  DrmClientSweep sweep(roots.proc_root);
  backend->sample(snap, sweep);
  EXPECT_TRUE(snap.gpus.empty());
  ASSERT_EQ(snap.notes.size(), 1u);
  EXPECT_NE(snap.notes[0].message.find("lacks nvmlInit"), std::string::npos);
}

TEST(NvmlBackend, KeepsNvmlOpenAcrossSamples) {
  auto roots = testing::fixture_roots("amd", fake("modern"));
  auto backend = make_nvml_backend(roots);
  for (int i = 0; i < 3; ++i) {
    GpuSnapshot snap;
    DrmClientSweep sweep(roots.proc_root);
    backend->sample(snap, sweep);
    ASSERT_EQ(snap.gpus.size(), 3u);
    EXPECT_EQ(snap.gpus[0].memory_used_bytes, 10 * kGiB);
  }
}

}  // namespace
}  // namespace memopt::gpu
