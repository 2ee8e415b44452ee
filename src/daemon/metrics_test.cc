#include "daemon/metrics.h"

#include <gtest/gtest.h>

#include <limits>

namespace memopt::daemon {
namespace {

TEST(MetricsTest, ConventionalNamesAndLabels) {
  MetricsView v;
  policy::GpuState g;
  g.index = 0;
  g.name = "RTX 4090";
  g.used_bytes = 1000;
  g.total_bytes = 24000;
  g.throttling = true;
  v.sample.input.gpus = {g};
  v.sample.input.host = {64, 32};
  policy::ModelState m;
  m.runtime = "ollama";
  m.name = "llama3.2:3b";
  m.size_bytes = 4000;
  m.vram_bytes = 3000;
  m.kv_capacity_bytes = 500;
  m.kv_used_bytes = 100;
  v.sample.input.models = {m};
  v.sample.snapshot.gpus.resize(1);
  v.sample.snapshot.gpus[0].temperature_c = 71.5;
  v.sample.snapshot.gpus[0].power_draw_watts = 250;
  v.actions_total["unload"] = 3;
  v.collector_errors_total["gpu"] = 2;
  v.profile = "local_llm";
  v.samples_total = 9;
  v.sample_interval_seconds = 0.25;
  const std::string t = render_metrics(v);
  EXPECT_NE(t.find("# TYPE ruvector_gpu_memory_used_bytes gauge\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_gpu_memory_used_bytes{gpu=\"0\",name=\"RTX 4090\"} 1000\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ruvector_gpu_temperature_celsius{gpu=\"0\"} 71.5\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_gpu_throttling{gpu=\"0\"} 1\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_model_vram_bytes{runtime=\"ollama\",model=\"llama3.2:3b\"} 3000\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_model_ram_bytes{runtime=\"ollama\",model=\"llama3.2:3b\"} 1000\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_model_gpu_share_ratio{runtime=\"ollama\",model=\"llama3.2:3b\"} 0.75\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_model_kv_cache_capacity_bytes{runtime=\"ollama\",model=\"llama3.2:3b\"} 500\n"),
            std::string::npos);
  EXPECT_NE(t.find("ruvector_policy_actions_total{kind=\"unload\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_policy_actions_total{kind=\"restore_layers\"} 0\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_collector_errors_total{collector=\"gpu\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_host_memory_available_bytes 32\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_daemon_samples_total 9\n"), std::string::npos);
  EXPECT_NE(t.find("ruvector_daemon_sample_interval_seconds 0.25\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ruvector_policy_profile_info{profile=\"local_llm\",mode=\"dry-run\",policy=\"predictive\"} 1\n"),
            std::string::npos);
}

TEST(MetricsTest, OomForecastOnlyWhileGrowing) {
  MetricsView v;
  policy::GpuForecast f;
  f.gpu = 0;
  f.seconds_to_oom = 7.5;
  f.still_growing = true;
  v.forecasts = {f};
  EXPECT_NE(render_metrics(v).find("ruvector_gpu_oom_forecast_seconds{gpu=\"0\"} 7.5\n"), std::string::npos);
  v.forecasts[0].still_growing = false;  // the line still slopes, the last samples are flat
  EXPECT_EQ(render_metrics(v).find("ruvector_gpu_oom_forecast_seconds{"), std::string::npos);
  v.forecasts[0].still_growing = true;
  v.forecasts[0].seconds_to_oom = std::numeric_limits<double>::infinity();
  EXPECT_EQ(render_metrics(v).find("ruvector_gpu_oom_forecast_seconds{"), std::string::npos);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  MetricsView v;
  policy::ModelState m;
  m.runtime = "ollama";
  m.name = "evil\"} 1\nfake_metric 2";
  v.sample.input.models = {m};
  const std::string t = render_metrics(v);
  EXPECT_EQ(t.find("\nfake_metric 2"), std::string::npos);
  EXPECT_NE(t.find("model=\"evil\\\"} 1\\nfake_metric 2\""), std::string::npos);
}

}  // namespace
}  // namespace memopt::daemon
