// One sampling pass of every GPU backend inside a running process (what the
// daemon does each second), plus its parts. Target: under 1 ms without GPUs.
//   cmake --build build --target vram_bench && build/vram_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include "gpu/collect.h"
#include "gpu/drm_fdinfo.h"
#include "proc/host_memory.h"

namespace {

using memopt::gpu::GpuCollector;
using memopt::gpu::GpuRoots;

std::string fixture(const char* name) {
  return std::string(MEMOPT_SOURCE_DIR) + "/tests/fixtures/gpu/" + name;
}

// This machine as it is: real /proc, /sys and the system's NVML (absent here).
void BM_SampleAllBackends_ThisMachine(benchmark::State& state) {
  GpuCollector c(GpuRoots{});
  for (auto _ : state) benchmark::DoNotOptimize(c.sample());
}
BENCHMARK(BM_SampleAllBackends_ThisMachine)->Unit(benchmark::kMicrosecond);

// An AMD card with fdinfo clients and KFD (fixture tree): the DRM path.
void BM_SampleAllBackends_AmdFixture(benchmark::State& state) {
  GpuCollector c(GpuRoots{fixture("amd") + "/proc", fixture("amd") + "/sys",
                          "/nonexistent/libnvidia-ml.so.1"});
  for (auto _ : state) benchmark::DoNotOptimize(c.sample());
}
BENCHMARK(BM_SampleAllBackends_AmdFixture)->Unit(benchmark::kMicrosecond);

// Our side of NVML: 3 GPUs, 43 processes, through the fake library. Real
// NVML adds the driver's ioctl cost on top; measure it with
// scripts/device-check.sh on an NVIDIA machine.
void BM_SampleFakeNvml(benchmark::State& state) {
  std::string lib = std::string(MEMOPT_BINARY_DIR) + "/fake_nvml/modern/libnvidia-ml.so.1";
  if (access(lib.c_str(), R_OK) != 0) {
    state.SkipWithError("build fake_nvml_modern first");
    return;
  }
  GpuCollector c(GpuRoots{fixture("none") + "/proc", fixture("none") + "/sys", lib});
  for (auto _ : state) benchmark::DoNotOptimize(c.sample());
}
BENCHMARK(BM_SampleFakeNvml)->Unit(benchmark::kMicrosecond);

void BM_HostMemory_ThisMachine(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(memopt::proc::read_host_memory("/proc", "/sys"));
}
BENCHMARK(BM_HostMemory_ThisMachine)->Unit(benchmark::kMicrosecond);

// The full /proc/*/fd sweep an AMD or Intel machine pays each sample.
void BM_DrmFdinfoSweep_ThisMachine(benchmark::State& state) {
  for (auto _ : state) {
    memopt::gpu::DrmClientSweep sweep("/proc");
    benchmark::DoNotOptimize(sweep.clients());
  }
}
BENCHMARK(BM_DrmFdinfoSweep_ThisMachine)->Unit(benchmark::kMicrosecond);

// What the daemon pays between full sweeps: only the indexed DRM fds.
void BM_DrmFdinfoIndexed_ThisMachine(benchmark::State& state) {
  memopt::gpu::DrmFdIndex index;
  memopt::gpu::DrmClientSweep("/proc", &index, true).clients();
  for (auto _ : state) {
    memopt::gpu::DrmClientSweep sweep("/proc", &index, false);
    benchmark::DoNotOptimize(sweep.clients());
  }
}
BENCHMARK(BM_DrmFdinfoIndexed_ThisMachine)->Unit(benchmark::kMicrosecond);

// The AMD fixture through a long-lived collector (daemon): 4 of 5 samples
// reuse the fd index.
void BM_CollectorAmdFixture_Daemon(benchmark::State& state) {
  GpuCollector c(GpuRoots{fixture("amd") + "/proc", fixture("amd") + "/sys",
                          "/nonexistent/libnvidia-ml.so.1"});
  for (auto _ : state) benchmark::DoNotOptimize(c.sample());
}
BENCHMARK(BM_CollectorAmdFixture_Daemon)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
