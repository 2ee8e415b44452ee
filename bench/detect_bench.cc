// In-process cost of the detector's pieces on this machine's /proc:
// the full scan (maps and fds), the scan without maps/fds, and the pure
// classification + grouping over a finished scan.
#include <benchmark/benchmark.h>

#include "detect/detector.h"
#include "proc/process_scanner.h"

namespace {

void BM_ScanFull(benchmark::State& state) {
  for (auto _ : state) {
    auto r = memopt::proc::scan_processes("/proc");
    benchmark::DoNotOptimize(r);
    state.counters["processes"] = r.ok() ? static_cast<double>(r->processes.size()) : 0;
  }
}
BENCHMARK(BM_ScanFull)->Unit(benchmark::kMillisecond);

void BM_ScanWithoutMapsAndFds(benchmark::State& state) {
  memopt::proc::ScanOptions o;
  o.read_maps = false;
  o.read_fds = false;
  for (auto _ : state) {
    auto r = memopt::proc::scan_processes("/proc", o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ScanWithoutMapsAndFds)->Unit(benchmark::kMillisecond);

void BM_DetectWorkloads(benchmark::State& state) {
  auto scan = memopt::proc::scan_processes("/proc");
  if (!scan) {
    state.SkipWithError("cannot scan /proc");
    return;
  }
  for (auto _ : state) {
    auto ws = memopt::detect::detect_workloads(*scan, {});
    benchmark::DoNotOptimize(ws);
  }
}
BENCHMARK(BM_DetectWorkloads)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
