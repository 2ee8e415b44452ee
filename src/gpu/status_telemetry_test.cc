#include "gpu/status_telemetry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace memopt::gpu {
namespace {

TEST(AddGpuTelemetry, AddsWhatTheBackendReadByIndex) {
  GpuDevice a;
  a.index = 0;
  a.temperature_c = 71;
  a.power_draw_watts = 212.5;
  a.power_limit_watts = 450;
  a.utilization_percent = 87;
  a.throttle = ThrottleReasons{0x20, true, false, false};
  GpuDevice b;
  b.index = 1;  // nothing readable: no members added
  nlohmann::json s = nlohmann::json::parse(R"({"gpus": [{"index": 1}, {"index": 0}, {"index": "x"}, 5]})");
  add_gpu_telemetry(s, {a, b});
  EXPECT_EQ(s["gpus"][0], nlohmann::json::parse(R"({"index": 1})"));
  EXPECT_EQ(s["gpus"][1]["temperature_c"], 71.0);
  EXPECT_EQ(s["gpus"][1]["power_draw_watts"], 212.5);
  EXPECT_EQ(s["gpus"][1]["power_limit_watts"], 450.0);
  EXPECT_EQ(s["gpus"][1]["utilization_percent"], 87u);
  EXPECT_EQ(s["gpus"][1]["throttle"]["thermal"], true);
  EXPECT_EQ(s["gpus"][1]["throttle"]["power"], false);
  EXPECT_EQ(s["gpus"][2], nlohmann::json::parse(R"({"index": "x"})"));
  nlohmann::json not_status = 3;
  add_gpu_telemetry(not_status, {a});
  EXPECT_EQ(not_status, 3);
}

}  // namespace
}  // namespace memopt::gpu
