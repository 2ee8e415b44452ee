#include "gpu/status_telemetry.h"

#include <nlohmann/json.hpp>

namespace memopt::gpu {

void add_gpu_telemetry(nlohmann::json& status, const std::vector<GpuDevice>& gpus) {
  if (!status.is_object() || !status.contains("gpus") || !status["gpus"].is_array()) return;
  for (auto& jg : status["gpus"]) {
    if (!jg.is_object() || !jg.contains("index") || !jg["index"].is_number_unsigned()) continue;
    const auto idx = jg["index"].get<uint64_t>();
    for (const GpuDevice& g : gpus) {
      if (g.index != idx) continue;
      if (g.temperature_c) jg["temperature_c"] = *g.temperature_c;
      if (g.power_draw_watts) jg["power_draw_watts"] = *g.power_draw_watts;
      if (g.power_limit_watts) jg["power_limit_watts"] = *g.power_limit_watts;
      if (g.utilization_percent) jg["utilization_percent"] = *g.utilization_percent;
      if (g.throttle) jg["throttle"] = {{"thermal", g.throttle->thermal}, {"power", g.throttle->power}};
    }
  }
}

}  // namespace memopt::gpu
