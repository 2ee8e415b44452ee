#pragma once
// The JSON form of GPU and host-memory records, shared by `vram status
// --json`, the daemon's API and its history (docs/json/vram-status.md).
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "gpu/gpu_device.h"
#include "proc/host_memory.h"

namespace memopt::gpu {

// Process names come from `proc_root`/PID/comm ("" once the process is gone).
nlohmann::json gpu_to_json(const GpuDevice& gpu, const std::string& proc_root);
nlohmann::json note_to_json(const GpuNote& note);
nlohmann::json host_to_json(const proc::HostMemory& host);

}  // namespace memopt::gpu
