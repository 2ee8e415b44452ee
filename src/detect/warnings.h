#pragma once
// Actionable warnings from a Snapshot: pure, so every threshold is tested.
#include <vector>

#include "snapshot/snapshot.h"

namespace memopt::detect {

using snapshot::Snapshot;
using snapshot::Warning;

struct WarningThresholds {
  double ram_available_min = 0.10;  // warn when less than 10% of RAM is available
  double vram_used_max = 0.95;      // warn when a GPU is more than 95% full
  uint64_t other_vram_min_bytes = 256ull << 20;  // ignore small non-AI holders (a desktop)
  // GPU memory bandwidth over system RAM bandwidth, for the partial-offload
  // slowdown. Token generation streams every weight once per token, so its
  // time is ~ sum(bytes_on_device / device_bandwidth) (roofline model); a
  // consumer GPU (~900 GB/s) against dual-channel DDR5 (~70 GB/s) gives ~13.
  double gpu_over_cpu_bandwidth = 13.0;
};

// Expected generation slowdown when `cpu_fraction` of the weights sit in
// system RAM, relative to all in VRAM: (1 - f) + f * ratio.
double offload_slowdown(double cpu_fraction, double gpu_over_cpu_bandwidth);

std::vector<Warning> make_warnings(const Snapshot& s, const WarningThresholds& t = {});

}  // namespace memopt::detect
