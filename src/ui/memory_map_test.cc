#include "ui/memory_map.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "util/bytes.h"

namespace memopt::ui {
namespace {

uint64_t sum(const DeviceMap &d) {
  uint64_t s = 0;
  for (const auto &seg : d.segments) s += seg.bytes;
  return s;
}

const MapSegment *find(const DeviceMap &d, SegmentKind k, const std::string &owner) {
  for (const auto &s : d.segments) {
    if (s.kind == k && s.owner == owner) return &s;
  }
  return nullptr;
}

gpu::GpuDevice gpu_at(uint32_t index, uint64_t used, uint64_t total) {
  gpu::GpuDevice g;
  g.index = index;
  g.name = "GPU " + std::to_string(index);
  g.backend = "nvml";
  g.memory_source = "nvml_v2";
  g.memory_used_bytes = used;
  g.memory_total_bytes = total;
  return g;
}

// Two GPUs: a llama.cpp server with one model split over both (its GGUF file
// known, KV measured), an Ollama with two models on GPU 0 (KV estimated, no
// file), and two non-AI processes.
snapshot::Snapshot two_gpus() {
  snapshot::Snapshot s;
  s.gpu_backend = "nvml";
  s.host.meminfo.total_bytes = 64 * kGiB;
  s.host.meminfo.available_bytes = 40 * kGiB;
  s.gpus = {gpu_at(0, 20 * kGiB, 24 * kGiB), gpu_at(1, 10 * kGiB, 24 * kGiB)};

  snapshot::Workload llama;
  llama.runtime = "llama.cpp";
  llama.endpoint = "http://127.0.0.1:8080";
  llama.model = "qwen";
  llama.rss_bytes = 2 * kGiB;
  llama.vram = {{0, 6 * kGiB}, {1, 6 * kGiB}};
  snapshot::ModelSummary f;
  f.path = "/m/qwen.gguf";
  f.weight_bytes = 8 * kGiB;
  llama.models = {f};
  runtimes::LoadedModel q;
  q.endpoint = llama.endpoint;
  q.name = "qwen";
  q.model_path = "/m/qwen.gguf";
  q.vram_bytes = 12 * kGiB;
  q.kv.capacity_bytes = runtimes::Figure<uint64_t>::measured(2 * kGiB);

  snapshot::Workload ollama;
  ollama.runtime = "ollama";
  ollama.endpoint = "http://127.0.0.1:11434";
  ollama.rss_bytes = 1 * kGiB;
  ollama.vram = {{0, 9 * kGiB}};
  runtimes::LoadedModel a, b;
  a.endpoint = b.endpoint = ollama.endpoint;
  a.name = "a:7b";
  a.vram_bytes = 6 * kGiB;
  a.kv.capacity_bytes = runtimes::Figure<uint64_t>::estimated(1 * kGiB);
  b.name = "b:3b";
  b.vram_bytes = 3 * kGiB;

  snapshot::Workload xorg, firefox;
  xorg.runtime = firefox.runtime = "other";
  xorg.runtime_name = "Xorg";
  xorg.vram = {{0, 512 * kMiB}};
  firefox.runtime_name = "firefox";
  firefox.vram = {{0, 256 * kMiB}, {1, 128 * kMiB}};

  s.workloads = {llama, ollama, xorg, firefox};
  s.loaded_models = {q, a, b};
  return s;
}

TEST(MemoryMap, SegmentsAddUpToUsedAndSplitModelsIntoParts) {
  MapThresholds t{"local_llm", 90, 80, 95, 8 * kGiB};
  auto maps = memory_map(two_gpus(), t);
  ASSERT_EQ(maps.size(), 3u);
  const DeviceMap &g0 = maps[0];
  EXPECT_EQ(g0.id, "gpu0");
  EXPECT_EQ(g0.used_bytes, 20 * kGiB);
  EXPECT_EQ(g0.free_bytes, 4 * kGiB);
  EXPECT_EQ(sum(g0), g0.used_bytes);
  // qwen: half of the model on each GPU, so half its KV and half its weights.
  const auto *kv = find(g0, SegmentKind::kKvCache, "qwen");
  ASSERT_NE(kv, nullptr);
  EXPECT_EQ(kv->bytes, 1 * kGiB);
  EXPECT_FALSE(kv->estimated);
  const auto *w = find(g0, SegmentKind::kWeights, "qwen");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->bytes, 4 * kGiB);
  const auto *c = find(g0, SegmentKind::kCompute, "qwen");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->bytes, 1 * kGiB);
  EXPECT_TRUE(c->estimated);
  // Ollama's 9 GiB split 6:3 by the runtime's figures; a:7b's KV estimated,
  // no file: the rest is one "weights + compute" block.
  const auto *akv = find(g0, SegmentKind::kKvCache, "a:7b");
  ASSERT_NE(akv, nullptr);
  EXPECT_EQ(akv->bytes, 1 * kGiB);
  EXPECT_TRUE(akv->estimated);
  const auto *am = find(g0, SegmentKind::kModel, "a:7b");
  ASSERT_NE(am, nullptr);
  EXPECT_EQ(am->bytes, 5 * kGiB);
  ASSERT_NE(find(g0, SegmentKind::kModel, "b:3b"), nullptr);
  EXPECT_EQ(find(g0, SegmentKind::kModel, "b:3b")->bytes, 3 * kGiB);
  // Non-AI processes grouped; the rest of "used" is not attributed.
  const auto *other = find(g0, SegmentKind::kNonAi, "non-AI processes");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->bytes, 768 * kMiB);
  const auto *un = find(g0, SegmentKind::kUnattributed, "not attributed to a process");
  ASSERT_NE(un, nullptr);
  EXPECT_EQ(un->bytes, 20 * kGiB - 6 * kGiB - 9 * kGiB - 768 * kMiB);
  // Thresholds in byte order: compact 80 %, reserve 90 %, offload 95 %.
  ASSERT_EQ(g0.marks.size(), 3u);
  EXPECT_EQ(g0.marks[0].name, "compact");
  EXPECT_EQ(g0.marks[0].bytes, static_cast<uint64_t>(24 * kGiB * 0.8 + 0.5));
  EXPECT_EQ(g0.marks[2].name, "offload");

  EXPECT_EQ(sum(maps[1]), 10 * kGiB);
  EXPECT_EQ(find(maps[1], SegmentKind::kNonAi, "non-AI processes")->bytes, 128 * kMiB);

  const DeviceMap &ram = maps[2];
  EXPECT_EQ(ram.id, "ram");
  EXPECT_EQ(ram.used_bytes, 24 * kGiB);
  EXPECT_EQ(sum(ram), ram.used_bytes);
  EXPECT_EQ(find(ram, SegmentKind::kModel, "qwen")->bytes, 2 * kGiB);
  ASSERT_EQ(ram.marks.size(), 1u);
  EXPECT_EQ(ram.marks[0].bytes, 56 * kGiB);
}

// Readings taken at different moments can attribute more than "used": the
// bar still adds up, and never shows a negative remainder.
TEST(MemoryMap, MoreAttributedThanUsedIsCutToFit) {
  auto s = two_gpus();
  s.gpus[0].memory_used_bytes = 8 * kGiB;
  auto maps = memory_map(s, {});
  EXPECT_EQ(sum(maps[0]), 8 * kGiB);
  EXPECT_EQ(find(maps[0], SegmentKind::kUnattributed, "not attributed to a process"), nullptr);
  EXPECT_TRUE(maps[0].marks.empty());  // no profile: no marks
}

// No process attribution (a backend without per-process figures): the whole
// "used" is shown as unattributed, not given to a model.
TEST(MemoryMap, WithoutPerProcessFiguresEverythingIsUnattributed) {
  auto s = two_gpus();
  for (auto &w : s.workloads) w.vram.clear();
  auto maps = memory_map(s, {});
  ASSERT_EQ(maps[0].segments.size(), 1u);
  EXPECT_EQ(maps[0].segments[0].kind, SegmentKind::kUnattributed);
  EXPECT_EQ(maps[0].segments[0].bytes, 20 * kGiB);
}

// A workload no runtime API describes: the estimator's split, labelled
// estimated.
TEST(MemoryMap, AWorkloadWithOnlyAnEstimateIsSplitByIt) {
  snapshot::Snapshot s;
  s.gpus = {gpu_at(0, 10 * kGiB, 16 * kGiB)};
  snapshot::Workload w;
  w.runtime = "llama.cpp";
  w.model = "m.gguf";
  w.vram = {{0, 10 * kGiB}};
  w.estimate = snapshot::WorkloadEstimate{4096, 6 * kGiB, 2 * kGiB, 9 * kGiB};
  s.workloads = {w};
  auto maps = memory_map(s, {});
  ASSERT_EQ(maps.size(), 1u);  // host total unknown: no RAM bar
  EXPECT_EQ(find(maps[0], SegmentKind::kKvCache, "m.gguf")->bytes, 2 * kGiB);
  EXPECT_TRUE(find(maps[0], SegmentKind::kKvCache, "m.gguf")->estimated);
  EXPECT_EQ(find(maps[0], SegmentKind::kWeights, "m.gguf")->bytes, 6 * kGiB);
  EXPECT_EQ(find(maps[0], SegmentKind::kCompute, "m.gguf")->bytes, 2 * kGiB);
  EXPECT_EQ(sum(maps[0]), 10 * kGiB);
}

TEST(MemoryMap, JsonNamesKindsAndCarriesBytes) {
  auto maps = memory_map(two_gpus(), MapThresholds{"local_llm", 90, 80, 95, 0});
  auto j = memory_map_json(maps, MapThresholds{"local_llm", 90, 80, 95, 0});
  EXPECT_EQ(j["schema"], "ruvector-memopt.memory_map/1");
  EXPECT_EQ(j["devices"][0]["name"], "GPU 0");
  EXPECT_EQ(j["devices"][0]["used_bytes"].get<uint64_t>(), 20 * kGiB);
  EXPECT_EQ(j["devices"][0]["segments"][0]["kind"], "kv_cache");
  EXPECT_EQ(j["devices"][0]["marks"][1]["name"], "reserve");
  EXPECT_TRUE(j["devices"][2]["marks"].empty());
}

}  // namespace
}  // namespace memopt::ui
