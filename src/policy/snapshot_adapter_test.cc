#include "policy/snapshot_adapter.h"

#include <gtest/gtest.h>

#include "util/bytes.h"

namespace memopt::policy {
namespace {

TEST(SnapshotAdapterTest, MapsGpusModelsAndTrackedFacts) {
  snapshot::Snapshot s;
  s.host.meminfo.total_bytes = 64 * kGiB;
  s.host.meminfo.available_bytes = 20 * kGiB;
  snapshot::Workload w;
  w.runtime = "ollama";
  w.endpoint = "http://127.0.0.1:11434";
  w.vram = {{0, 1 * kGiB}, {1, 5 * kGiB}};
  s.workloads = {w};
  runtimes::LoadedModel m;
  m.runtime = runtimes::RuntimeKind::kOllama;
  m.name = "qwen2:7b";
  m.endpoint = "http://127.0.0.1:11434";
  m.size_bytes = 8 * kGiB;
  m.vram_bytes = 6 * kGiB;
  m.context_tokens = 8192;
  m.parallel = 2;
  m.kv.capacity_bytes = runtimes::Figure<uint64_t>::estimated(1 * kGiB);
  m.kv.usage_ratio = runtimes::Figure<double>::measured(0.25);
  m.n_layers = 29;
  m.idle_seconds = 120;
  m.expires_at = "2318-01-01T00:00:00Z";  // keep_alive -1
  s.loaded_models = {m};
  s.gpus.resize(2);
  s.gpus[0].index = 0;
  s.gpus[0].memory_total_bytes = 8 * kGiB;
  s.gpus[0].memory_used_bytes = 2 * kGiB;
  s.gpus[1].index = 1;
  s.gpus[1].name = "RTX";
  s.gpus[1].memory_total_bytes = 24 * kGiB;
  s.gpus[1].memory_used_bytes = 7 * kGiB;
  s.gpus[1].throttle = gpu::ThrottleReasons{0, true, false, false};
  auto in = to_policy_input(s, 42);
  EXPECT_EQ(in.now_seconds, 42);
  EXPECT_EQ(in.host.available_bytes, 20 * kGiB);
  ASSERT_EQ(in.gpus.size(), 2u);
  EXPECT_TRUE(in.gpus[1].throttling);
  EXPECT_EQ(in.gpus[1].throttle_reason, "thermal");
  ASSERT_EQ(in.models.size(), 1u);
  const auto& ms = in.models[0];
  EXPECT_EQ(ms.runtime, "ollama");
  EXPECT_EQ(ms.gpu, 1);  // where its workload holds the most
  EXPECT_EQ(ms.idle_seconds, 120);
  EXPECT_TRUE(ms.pinned);
  EXPECT_EQ(ms.parallel_slots, 2u);
  EXPECT_EQ(ms.context_length, 16384u);  // every slot's context
  EXPECT_EQ(ms.kv_capacity_bytes, 1 * kGiB);
  EXPECT_EQ(ms.kv_used_bytes, kGiB / 4);
  EXPECT_EQ(ms.kv_peak_bytes, kGiB / 4);
  EXPECT_EQ(ms.gpu_layers, 22u);  // round(29 x 6/8) = 21.75 -> 22
  EXPECT_EQ(ms.gpu_layer_bytes, 7 * kGiB / 29);
}

TEST(SnapshotAdapterTest, GpuWithoutMemoryFiguresIsLeftOut) {
  snapshot::Snapshot s;
  s.gpus.resize(1);
  auto in = to_policy_input(s, 0);
  EXPECT_TRUE(in.gpus.empty());
}

TEST(SnapshotAdapterTest, GatewayBackendsArePinned) {
  snapshot::Snapshot s;
  s.host.meminfo.total_bytes = 64 * kGiB;
  runtimes::LoadedModel backend;
  backend.runtime = runtimes::RuntimeKind::kLlamaCpp;
  backend.name = "tiny.gguf";
  backend.endpoint = "http://127.0.0.1:40235";
  runtimes::LoadedModel own = backend;
  own.endpoint = "http://127.0.0.1:8081";
  s.loaded_models = {backend, own};
  // No gateway: neither is pinned.
  auto in = to_policy_input(s, 10);
  ASSERT_EQ(in.models.size(), 2u);
  EXPECT_FALSE(in.models[0].pinned);
  EXPECT_FALSE(in.models[1].pinned);
  snapshot::GatewayStatus g;
  g.reachable = true;
  snapshot::GatewayModel gm;
  gm.name = "tiny-a";
  gm.state = "ready";
  gm.pid = 4242;
  gm.port = 40235;
  g.models = {gm};
  s.gateway = g;
  in = to_policy_input(s, 10);
  EXPECT_TRUE(in.models[0].pinned);   // the gateway's backend: the gateway decides
  EXPECT_FALSE(in.models[1].pinned);  // a llama-server of the user's own
  s.gateway->models[0].pid = 0;       // stopped: its old port means nothing
  EXPECT_FALSE(to_policy_input(s, 10).models[0].pinned);
}

}  // namespace
}  // namespace memopt::policy
