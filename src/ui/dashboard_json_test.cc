#include "ui/dashboard_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace memopt::ui {
namespace {

using nlohmann::json;

const json kStatus = json::parse(R"({
  "schema": "ruvector-memopt.status/1",
  "host": {"total_bytes": 34359738368, "available_bytes": 21474836480},
  "gpus": [{"index": 0, "name": "RTX 4090", "total_bytes": 25769803776,
            "used_bytes": 19327352832, "temperature_c": 66.0, "power_draw_watts": 180.5,
            "power_limit_watts": 450, "utilization_percent": 40,
            "throttle": {"thermal": true, "power": true}}],
  "workloads": [
    {"runtime": "ollama", "pid": 1200, "endpoint": "http://127.0.0.1:11434", "model": "x",
     "rss_bytes": 500000000, "vram_bytes": 6000000000},
    {"runtime": "llama.cpp", "pid": 3100, "endpoint": "", "model": "tiny.gguf",
     "rss_bytes": 104857600, "vram_bytes": 0,
     "estimate": {"kv_cache_bytes": 8388608, "total_bytes": 52428800}}
  ],
  "loaded_models": [
    {"runtime": "ollama", "name": "llama3.2:3b", "endpoint": "http://127.0.0.1:11434",
     "size_bytes": 4000000000, "vram_bytes": 3000000000, "kv_cache_usage": 0.5,
     "kv_cache_bytes": 1000000},
    {"runtime": "vllm", "name": "Qwen/Qwen2-7B", "endpoint": "http://10.0.0.2:8000",
     "size_bytes": 100, "vram_bytes": 100}
  ],
  "profile": "batch_inference",
  "warnings": [{"severity": "warning", "message": "llama3.2:3b is 25% on CPU"}]
})");

TEST(DashboardFromStatus, MapsHostGpusModelsAndWorkloads) {
  const Dashboard d = dashboard_from_status(kStatus);
  EXPECT_EQ(d.ram_total_bytes, 34359738368u);
  EXPECT_EQ(d.ram_available_bytes, 21474836480u);
  ASSERT_EQ(d.gpus.size(), 1u);
  EXPECT_EQ(d.gpus[0].used_bytes, 19327352832u);
  EXPECT_EQ(d.gpus[0].temperature_c, 66.0);
  EXPECT_EQ(d.gpus[0].power_watts, 180.5);
  EXPECT_EQ(d.gpus[0].utilization_percent, 40u);
  EXPECT_EQ(d.gpus[0].throttle, "thermal+power");
  ASSERT_EQ(d.workloads.size(), 3u);
  // The Ollama process shows its loaded model, split GPU/CPU.
  EXPECT_EQ(d.workloads[0].runtime, "ollama");
  EXPECT_EQ(d.workloads[0].model, "llama3.2:3b");
  EXPECT_EQ(d.workloads[0].pid, 1200);
  EXPECT_EQ(d.workloads[0].vram_bytes, 3000000000u);
  EXPECT_EQ(d.workloads[0].ram_bytes, 1000000000u);
  EXPECT_DOUBLE_EQ(*d.workloads[0].gpu_share, 0.75);
  EXPECT_EQ(d.workloads[0].kv_used_bytes, 500000u);
  // A process with no runtime API: RSS and the estimate's KV capacity.
  EXPECT_EQ(d.workloads[1].model, "tiny.gguf");
  EXPECT_EQ(d.workloads[1].ram_bytes, 104857600u);
  EXPECT_EQ(d.workloads[1].vram_bytes, 0u);
  EXPECT_EQ(d.workloads[1].kv_capacity_bytes, 8388608u);
  // A model no scanned process owns still shows, without a pid.
  EXPECT_EQ(d.workloads[2].runtime, "vllm");
  EXPECT_EQ(d.workloads[2].pid, 0);
  ASSERT_TRUE(d.profile);
  EXPECT_EQ(d.profile->name, "batch_inference");
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_EQ(d.warnings[0], "llama3.2:3b is 25% on CPU");
}

TEST(DashboardFromStatus, NoGpuMeansVramUnknownNotZero) {
  json s = kStatus;
  s["gpus"] = json::array();
  s["loaded_models"] = json::array();
  const Dashboard d = dashboard_from_status(s);
  ASSERT_EQ(d.workloads.size(), 2u);
  EXPECT_FALSE(d.workloads[0].vram_bytes.has_value());
}

TEST(DashboardFromStatus, HostilePayloadsNeverThrow) {
  for (const char* text :
       {"null", "[]", "\"x\"", "42", R"({"host": 5, "gpus": {"a": 1}, "workloads": [1, null, "x"]})",
        R"({"host": {"total_bytes": -5, "available_bytes": 1e300}, "gpus": [{"used_bytes": "9"}]})",
        R"({"profile": {"name": 7}, "warnings": [3, {"message": ["a"]}]})"}) {
    const Dashboard d = dashboard_from_status(json::parse(text));
    EXPECT_EQ(d.ram_total_bytes, 0u) << text;
  }
  const Dashboard d = dashboard_from_status(
      json::parse(R"({"gpus": [{"name": "evil\u001b[2Jname", "used_bytes": "9"}]})"));
  ASSERT_EQ(d.gpus.size(), 1u);
  EXPECT_EQ(d.gpus[0].name, "evil?[2Jname");  // no escape sequence reaches the terminal
  EXPECT_EQ(d.gpus[0].used_bytes, 0u);
}

TEST(DashboardFromStatus, ListsAreCapped) {
  json s;
  s["workloads"] = json::array();
  for (size_t i = 0; i < kMaxRows + 50; ++i) s["workloads"].push_back({{"runtime", "pytorch"}});
  EXPECT_EQ(dashboard_from_status(s).workloads.size(), kMaxRows);
}

TEST(AddHistory, SumsSeriesOverLabelsPerTimestamp) {
  Dashboard d;
  json a[5];
  // Two GPUs at t=100 and t=101; host memory at both; KV of two models at 101.
  a[0] = json::parse(R"({"series": [{"labels": "gpu=\"0\"", "points": [[100, 5], [101, 6]]},
                                    {"labels": "gpu=\"1\"", "points": [[100, 1], [101, 2]]}]})");
  a[1] = json::parse(R"({"series": [{"points": [[100, 20], [101, 20]]}, {"points": [[100, 4], [101, 4]]}]})");
  a[2] = json::parse(R"({"series": [{"points": [[100, 30], [101, 25]]}]})");
  a[3] = json::parse(R"({"series": [{"points": [[100, 64], [101, 64]]}]})");
  a[4] = json::parse(R"({"series": [{"points": [[101, 3]]}, {"points": [[101, 4], ["x", 1], [-1, 2]]}]})");
  add_history(d, a);
  ASSERT_EQ(d.history.size(), 2u);
  EXPECT_EQ(d.history[0].t_seconds, 100);
  EXPECT_EQ(d.history[0].vram_used_bytes, 6u);
  EXPECT_EQ(d.history[0].vram_total_bytes, 24u);
  EXPECT_EQ(d.history[0].ram_used_bytes, 34u);
  EXPECT_EQ(d.history[0].kv_used_bytes, 0u);
  EXPECT_EQ(d.history[1].vram_used_bytes, 8u);
  EXPECT_EQ(d.history[1].ram_used_bytes, 39u);
  EXPECT_EQ(d.history[1].kv_used_bytes, 7u);
}

TEST(AddHistory, TimestampsMissingASeriesAreSkipped) {
  Dashboard d;
  json a[5];
  a[0] = json::parse(R"({"series": [{"points": [[1, 5], [2, 5]]}]})");
  a[1] = json::parse(R"({"series": [{"points": [[1, 10], [2, 10], [3, 10]]}]})");
  a[2] = json::parse(R"({"series": [{"points": [[1, 30], [3, 30], [4, 30]]}]})");
  a[3] = json::parse(R"({"series": [{"points": [[1, 64], [2, 64], [3, 64], [4, 64]]}]})");
  add_history(d, a);
  // t=2 lacks available RAM, t=3 has a total but no used VRAM; t=4 has no GPU series at all.
  ASSERT_EQ(d.history.size(), 2u);
  EXPECT_EQ(d.history[0].t_seconds, 1);
  EXPECT_EQ(d.history[1].t_seconds, 4);
  EXPECT_EQ(d.history[1].vram_total_bytes, 0u);
}

TEST(AddHistory, HostileAnswersAreSkipped) {
  Dashboard d;
  json a[5] = {json("x"), json::array(), json::parse(R"({"series": 5})"),
               json::parse(R"({"series": [{"points": [[1, 1e300], [2, 1, 3], null]}]})"), json()};
  add_history(d, a);
  EXPECT_TRUE(d.history.empty());
}

TEST(AddActions, DaemonRecordsWithLocalTime) {
  Dashboard d;
  add_actions(d, json::parse(R"({"actions": [{"ts_ms": 1764237600000, "kind": "unload",
      "target": "ollama/qwen2:7b", "reason": "idle 400 s", "outcome": "ok", "applied": true}]})"),
              3600);
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(d.actions[0].when, "11:00:00");  // 10:00:00 UTC at UTC+1
  EXPECT_EQ(d.actions[0].kind, "unload");
  EXPECT_EQ(d.actions[0].target, "ollama/qwen2:7b");
  EXPECT_EQ(d.actions[0].outcome, "ok");
}

TEST(DashboardToJson, RoundTripsTheFieldsViewsShow) {
  Dashboard d = dashboard_from_status(kStatus);
  d.source = "standalone";
  const json j = dashboard_to_json(d);
  EXPECT_EQ(j["schema"], "ruvector-memopt.watch/1");
  EXPECT_EQ(j["workloads"][0]["vram_bytes"], 3000000000u);
  EXPECT_TRUE(j["workloads"][2]["kv_used_bytes"].is_null());
  EXPECT_EQ(j["gpus"][0]["throttle"], "thermal+power");
  EXPECT_EQ(j["profile"]["name"], "batch_inference");
}

}  // namespace
}  // namespace memopt::ui
