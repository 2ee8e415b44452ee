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

// The gateway admitted "tiny-b" (3 GiB planned on GPU 1 of two) and is
// starting it: the engine is told the whole load before the GPU shows any
// of it, then only what has not landed yet, and nothing once it is ready.
TEST(SnapshotAdapterTest, GatewayLoadIsAnnouncedOnItsGpuAndNotCountedTwice) {
  snapshot::Snapshot s;
  s.host.meminfo.total_bytes = 64 * kGiB;
  s.gpus.resize(2);
  for (uint32_t i = 0; i < 2; ++i) {
    s.gpus[i].index = i;
    s.gpus[i].memory_total_bytes = 24 * kGiB;
    s.gpus[i].memory_used_bytes = 2 * kGiB;
  }
  snapshot::GatewayStatus g;
  g.reachable = true;
  g.devices = {{"GPU 0", 20 * kGiB, 0, 0}, {"GPU 1", 20 * kGiB, 3 * kGiB, 1}};
  snapshot::GatewayModel gm;
  gm.name = "tiny-b";
  gm.state = "loading";  // admitted; its backend not started yet (evicting others first)
  gm.planned_bytes = {0, 3 * kGiB};
  g.models = {gm};
  s.gateway = g;

  auto in = to_policy_input(s, 100);
  ASSERT_EQ(in.announced.size(), 1u);
  const AnnouncedLoad& a = in.announced[0];
  EXPECT_EQ(a.source, "gateway");
  EXPECT_EQ(a.model, "tiny-b");
  EXPECT_EQ(a.runtime, "llama.cpp");
  EXPECT_EQ(a.gpu, 1);
  EXPECT_EQ(a.bytes, 3 * kGiB);
  EXPECT_EQ(a.resident_bytes, 0u);
  EXPECT_EQ(a.remaining_bytes(), 3 * kGiB);
  EXPECT_EQ(a.pid, 0);
  EXPECT_EQ(a.endpoint, "");

  // Its backend runs (pid, port) and holds 1 GiB on GPU 1 so far; the
  // assembler's estimate of that llama-server is the same load, not another.
  s.gateway->models[0].pid = 4242;
  s.gateway->models[0].port = 40235;
  snapshot::Workload w;
  w.runtime = "llama.cpp";
  w.pid = 4242;
  w.pids = {4242};
  w.endpoint = "http://127.0.0.1:40235";
  w.vram = {{1, 1 * kGiB}};
  w.vram_bytes = 1 * kGiB;
  w.estimate = snapshot::WorkloadEstimate{1024, 0, 0, 3 * kGiB + 5 * kMiB};
  s.workloads = {w};
  s.gpus[1].memory_used_bytes = 3 * kGiB;
  in = to_policy_input(s, 101);
  ASSERT_EQ(in.announced.size(), 1u);
  EXPECT_EQ(in.announced[0].source, "gateway");
  EXPECT_EQ(in.announced[0].pid, 4242);
  EXPECT_EQ(in.announced[0].endpoint, "http://127.0.0.1:40235");
  EXPECT_EQ(in.announced[0].bytes, 3 * kGiB);
  EXPECT_EQ(in.announced[0].resident_bytes, 1 * kGiB);
  EXPECT_EQ(in.announced[0].remaining_bytes(), 2 * kGiB);

  // The backend lists its model loaded before the gateway's next /health
  // probe: the GPU's counter has it all, nothing is announced.
  runtimes::LoadedModel lm;
  lm.runtime = runtimes::RuntimeKind::kLlamaCpp;
  lm.name = "tiny.gguf";
  lm.endpoint = "http://127.0.0.1:40235";
  lm.state = "loaded";
  lm.vram_bytes = 3 * kGiB;
  s.loaded_models = {lm};
  s.workloads[0].vram = {{1, 3 * kGiB}};
  s.gpus[1].memory_used_bytes = 5 * kGiB;
  in = to_policy_input(s, 102);
  EXPECT_TRUE(in.announced.empty());

  // Ready: the load is in the GPU's used bytes, and only there.
  s.gateway->models[0].state = "ready";
  in = to_policy_input(s, 103);
  EXPECT_TRUE(in.announced.empty());
  EXPECT_EQ(in.gpus[1].used_bytes, 5 * kGiB);
  // Ready, but its server not answering the daemon's probe: the planner's
  // estimate of that llama-server counts only what is not resident yet.
  s.loaded_models.clear();
  in = to_policy_input(s, 103);
  ASSERT_EQ(in.announced.size(), 1u);
  EXPECT_EQ(in.announced[0].source, "planner");
  EXPECT_EQ(in.announced[0].remaining_bytes(), 5 * kMiB);

  // The same admission told to the daemon otherwise is not a second load.
  s.gateway->models[0].state = "loading";
  DaemonKnowledge k;
  AnnouncedLoad told;
  told.model = "tiny-b";
  told.pid = 4242;
  told.gpu = 1;
  told.bytes = 3 * kGiB;
  k.gateway = {told};
  s.workloads[0].vram = {{1, 1 * kGiB}};
  in = to_policy_input(s, 104, k);
  ASSERT_EQ(in.announced.size(), 1u);
  EXPECT_EQ(in.announced[0].remaining_bytes(), 2 * kGiB);
}

TEST(SnapshotAdapterTest, GatewayLoadsNeedAGpuAndAReachableGateway) {
  snapshot::Snapshot s;
  s.gpus.resize(1);
  s.gpus[0].memory_total_bytes = 8 * kGiB;
  s.gpus[0].memory_used_bytes = 1 * kGiB;
  snapshot::GatewayStatus g;
  g.reachable = true;
  g.devices = {{"RAM", 8 * kGiB, 5 * kMiB, -1}};  // a CPU-only budget: no VRAM to announce
  snapshot::GatewayModel gm;
  gm.name = "tiny-a";
  gm.state = "loading";
  gm.planned_bytes = {5 * kMiB};
  g.models = {gm};
  s.gateway = g;
  EXPECT_TRUE(to_policy_input(s, 1).announced.empty());
  // A GPU the daemon does not see (no memory figures) is not planned on.
  s.gateway->devices = {{"GPU 3", 8 * kGiB, 5 * kMiB, 3}};
  EXPECT_TRUE(to_policy_input(s, 1).announced.empty());
  s.gateway->devices[0].gpu = 0;
  ASSERT_EQ(to_policy_input(s, 1).announced.size(), 1u);
  EXPECT_EQ(to_policy_input(s, 1).announced[0].bytes, 5 * kMiB);
  s.gateway->reachable = false;  // an old reading's models are not news
  EXPECT_TRUE(to_policy_input(s, 1).announced.empty());
}

}  // namespace
}  // namespace memopt::policy
