#pragma once
// From the Snapshot every view renders (src/detect) and the GPU backends'
// devices (src/gpu) to the policy engine's compact input. Pure: what the
// Snapshot cannot say (idle time, slots, layers) comes in `extras`, which the
// daemon tracks between samples.
#include <map>
#include <string>

#include "detect/snapshot.h"
#include "gpu/gpu_device.h"
#include "policy/policy_input.h"

namespace memopt::policy {

// Per loaded model, keyed by ModelState::key() ("ollama/qwen2:7b").
struct ModelExtras {
  double idle_seconds = 0;
  bool busy = false;
  bool pinned = false;
  uint32_t n_layers = 0;        // repeating layers + output, from the model file
  uint32_t parallel_slots = 1;
  uint64_t kv_capacity_bytes = 0;
  uint64_t kv_used_bytes = 0;
  uint64_t kv_peak_bytes = 0;
};

PolicyInput to_policy_input(const detect::Snapshot& snapshot, const std::vector<gpu::GpuDevice>& gpus,
                            double now_seconds, const std::map<std::string, ModelExtras>& extras);

}  // namespace memopt::policy
