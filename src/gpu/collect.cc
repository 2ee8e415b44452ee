#include "gpu/collect.h"

#include <fmt/format.h>

#include <algorithm>

#include "gpu/gpu_backend.h"

namespace memopt::gpu {

const char* vendor_name(Vendor v) {
  switch (v) {
    case Vendor::kNvidia:
      return "nvidia";
    case Vendor::kAmd:
      return "amd";
    case Vendor::kIntel:
      return "intel";
    case Vendor::kOther:
      break;
  }
  return "other";
}

const char* process_kind_name(ProcessKind k) {
  switch (k) {
    case ProcessKind::kCompute:
      return "compute";
    case ProcessKind::kGraphics:
      return "graphics";
    case ProcessKind::kUnknown:
      break;
  }
  return "unknown";
}

GpuCollector::GpuCollector(GpuRoots roots)
    : roots_(std::move(roots)), backends_(make_gpu_backends(roots_)) {}
GpuCollector::~GpuCollector() = default;

std::vector<std::pair<uint32_t, uint64_t>> process_memory(const GpuDevice& gpu) {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (const auto& p : gpu.processes)
    out.emplace_back(p.pid, p.used_bytes.value_or(0) + p.shared_bytes);
  return out;
}

uint64_t GpuCollector::samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

GpuSnapshot GpuCollector::sample() {
  std::lock_guard lock(mu_);
  GpuSnapshot snap;
  DrmClientSweep fdinfo(roots_.proc_root, &fd_index_, samples_++ % kFdIndexRefreshSamples == 0);
  for (auto& b : backends_) b->sample(snap, fdinfo);
  if (fdinfo.swept() && fdinfo.unreadable() > 0) {
    snap.notes.push_back(
        {"drm",
         fmt::format("per-process GPU memory of {} processes of other users is not "
                     "visible; run as root to attribute it",
                     fdinfo.unreadable()),
         false});
  }
  for (size_t i = 0; i < snap.gpus.size(); ++i) {
    GpuDevice& d = snap.gpus[i];
    d.index = static_cast<uint32_t>(i);
    auto largest_first = [](const GpuProcess& a, const GpuProcess& b) {
      uint64_t x = a.used_bytes.value_or(0) + a.shared_bytes,
               y = b.used_bytes.value_or(0) + b.shared_bytes;
      return x != y ? x > y : a.pid < b.pid;
    };
    std::stable_sort(d.processes.begin(), d.processes.end(), largest_first);
    for (auto& m : d.mig_instances)
      std::stable_sort(m.processes.begin(), m.processes.end(), largest_first);
  }
  return snap;
}

GpuSnapshot collect_gpus(const GpuRoots& roots) { return GpuCollector(roots).sample(); }

}  // namespace memopt::gpu
