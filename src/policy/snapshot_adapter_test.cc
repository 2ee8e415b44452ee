#include "policy/snapshot_adapter.h"

#include <gtest/gtest.h>

#include "util/bytes.h"

namespace memopt::policy {
namespace {

TEST(SnapshotAdapterTest, MapsGpusModelsAndExtras) {
  detect::Snapshot s;
  s.host.total_bytes = 64 * kGiB;
  s.host.available_bytes = 20 * kGiB;
  detect::Workload w;
  w.runtime = "ollama";
  w.endpoint = "http://127.0.0.1:11434";
  w.vram = {{0, 1 * kGiB}, {1, 5 * kGiB}};
  s.workloads = {w};
  detect::LoadedModel m;
  m.runtime = "ollama";
  m.name = "qwen2:7b";
  m.endpoint = "http://127.0.0.1:11434";
  m.size_bytes = 8 * kGiB;
  m.vram_bytes = 6 * kGiB;
  m.context_length = 8192;
  m.kv_cache_usage = 0.25;
  s.loaded_models = {m};
  std::vector<gpu::GpuDevice> gpus(2);
  gpus[0].index = 0;
  gpus[0].memory_total_bytes = 8 * kGiB;
  gpus[0].memory_used_bytes = 2 * kGiB;
  gpus[1].index = 1;
  gpus[1].name = "RTX";
  gpus[1].memory_total_bytes = 24 * kGiB;
  gpus[1].memory_used_bytes = 7 * kGiB;
  gpus[1].throttle = gpu::ThrottleReasons{0, true, false, false};
  std::map<std::string, ModelExtras> x;
  x["ollama/qwen2:7b"] = {120, false, false, 29, 1, 1 * kGiB, 0, 0};
  auto in = to_policy_input(s, gpus, 42, x);
  EXPECT_EQ(in.now_seconds, 42);
  EXPECT_EQ(in.host.available_bytes, 20 * kGiB);
  ASSERT_EQ(in.gpus.size(), 2u);
  EXPECT_TRUE(in.gpus[1].throttling);
  EXPECT_EQ(in.gpus[1].throttle_reason, "thermal");
  ASSERT_EQ(in.models.size(), 1u);
  const auto& ms = in.models[0];
  EXPECT_EQ(ms.gpu, 1);  // where its workload holds the most
  EXPECT_EQ(ms.idle_seconds, 120);
  EXPECT_EQ(ms.kv_used_bytes, kGiB / 4);
  EXPECT_EQ(ms.gpu_layers, 22u);  // round(29 x 6/8) = 21.75 -> 22
  EXPECT_EQ(ms.gpu_layer_bytes, 7 * kGiB / 29);
}

TEST(SnapshotAdapterTest, GpuWithoutMemoryFiguresIsLeftOut) {
  detect::Snapshot s;
  std::vector<gpu::GpuDevice> gpus(1);
  auto in = to_policy_input(s, gpus, 0, {});
  EXPECT_TRUE(in.gpus.empty());
}

}  // namespace
}  // namespace memopt::policy
