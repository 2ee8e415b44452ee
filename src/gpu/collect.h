#pragma once
// The public entry point of src/gpu/: sample every GPU of every vendor.
// GpuCollector keeps backends open (NVML initialised once: nvmlInit can take
// hundreds of ms without persistence mode), for the daemon's 1 s sampling;
// collect_gpus() is the one-shot form for CLI commands. One collector may be
// shared by threads (the daemon's sampler and the gateway `daemon --serve`
// runs in the same process: one NVML session, reads one at a time).
#include <memory>
#include <mutex>
#include <vector>

#include "gpu/drm_fdinfo.h"
#include "gpu/gpu_device.h"

namespace memopt::gpu {

class GpuBackend;

class GpuCollector {
 public:
  explicit GpuCollector(GpuRoots roots);
  ~GpuCollector();
  GpuCollector(const GpuCollector&) = delete;
  GpuCollector& operator=(const GpuCollector&) = delete;

  // One pass over all backends. GPUs are numbered 0..n-1 in backend order and
  // each device's processes are sorted largest first.
  // The /proc/*/fd sweep for DRM clients is redone every
  // kFdIndexRefreshSamples samples (5 s at the daemon's 1 s); in between only
  // the known DRM fds are re-read. Device totals are always current.
  GpuSnapshot sample();
  static constexpr uint64_t kFdIndexRefreshSamples = 5;
  // How many samples were taken (by every thread that shares this one).
  uint64_t samples() const;

 private:
  mutable std::mutex mu_;
  GpuRoots roots_;
  DrmFdIndex fd_index_;
  uint64_t samples_ = 0;
  std::vector<std::unique_ptr<GpuBackend>> backends_;
};

GpuSnapshot collect_gpus(const GpuRoots& roots);

// pid → bytes on one GPU (device + shared), for the AI workload detector.
std::vector<std::pair<uint32_t, uint64_t>> process_memory(const GpuDevice& gpu);

}  // namespace memopt::gpu
