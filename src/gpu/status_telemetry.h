#pragma once
// The GPU telemetry members the views show next to each GPU of the status
// document (docs/json/status.md gpus[]): temperature, power, utilisation and
// throttle reasons, which the detector's Snapshot does not carry. Added by the
// daemon's sampler and by `ai watch`'s own sampler from the same GpuDevice.
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "gpu/gpu_device.h"

namespace memopt::gpu {

// For each entry of status["gpus"] with an "index", adds the members of the
// GpuDevice with that index that the backend could read (absent ones stay
// absent): temperature_c, power_draw_watts, power_limit_watts,
// utilization_percent, throttle {thermal, power}.
void add_gpu_telemetry(nlohmann::json& status, const std::vector<GpuDevice>& gpus);

}  // namespace memopt::gpu
