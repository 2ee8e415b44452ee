// The status document: every member, bytes as integers, and the round trip
// the daemon-attached views depend on (to_json -> from_json gives back the
// same typed facts), including hostile documents.
#include "snapshot/snapshot_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace memopt::snapshot {
namespace {

Snapshot sample() {
  Snapshot s;
  s.taken_at_unix_ms = 1700000000000;
  s.host.meminfo.total_bytes = 16ull << 30;
  s.host.meminfo.available_bytes = 8ull << 30;
  s.host.meminfo.swap_total_bytes = 2ull << 30;
  s.host.meminfo.swap_free_bytes = 1ull << 30;
  gpu::GpuDevice g;
  g.index = 0;
  g.name = "RTX 4090";
  g.vendor = gpu::Vendor::kNvidia;
  g.memory_total_bytes = 24ull << 30;
  g.memory_used_bytes = 10ull << 30;
  g.temperature_c = 71.5;
  g.power_draw_watts = 250;
  g.throttle = gpu::ThrottleReasons{0, true, false, false};
  s.gpus.push_back(g);
  s.gpu_backend = "nvml";
  Workload w;
  w.runtime = "llama.cpp";
  w.runtime_name = "llama.cpp";
  w.flavor = "node-llama-cpp";
  w.pid = 42;
  w.pids = {42, 43};
  w.evidence.push_back({42, "library", "libllama.so", 0.8});
  w.endpoint = "http://127.0.0.1:8080";
  w.model = "tiny.gguf";
  w.context_tokens = 2048;
  w.parallel = 2;
  w.rss_bytes = 123456789;
  w.vram = {{0, 3ull << 30}};
  w.vram_bytes = 3ull << 30;
  w.estimate = WorkloadEstimate{2048, 1ull << 30, 512ull << 20, 2ull << 30};
  w.learned_peak = LearnedPeak{0, 6ull << 30, 4};
  s.workloads.push_back(w);
  runtimes::LoadedModel m;
  m.runtime = runtimes::RuntimeKind::kLlamaCpp;
  m.name = "tiny";
  m.endpoint = "http://127.0.0.1:8080";
  m.size_bytes = 5ull << 30;
  m.vram_bytes = 4ull << 30;
  m.context_tokens = 2048;
  m.parallel = 2;
  m.kv.capacity_bytes = runtimes::Figure<uint64_t>::estimated(536870912);
  m.kv.usage_ratio = runtimes::Figure<double>::measured(0.25);
  m.idle_seconds = 12.5;
  m.n_layers = 29;
  s.loaded_models.push_back(m);
  s.profile = "local_llm";
  s.warnings.push_back({"warning", "GPU 0 is full", "ai unload x"});
  s.errors.push_back({"runtimes", "GET http://127.0.0.1:9/x: connection refused"});
  return s;
}

TEST(SnapshotJson, CarriesEveryMemberWithBytesAsIntegers) {
  nlohmann::json j = to_json(sample());
  EXPECT_EQ(j["schema"], "ruvector-memopt.status/1");
  EXPECT_EQ(j["host"]["used_bytes"].get<uint64_t>(), 8ull << 30);
  EXPECT_EQ(j["gpus"][0]["total_bytes"].get<uint64_t>(), 24ull << 30);
  EXPECT_EQ(j["gpus"][0]["temperature_c"].get<double>(), 71.5);
  EXPECT_EQ(j["gpus"][0]["throttle"]["thermal"], true);
  const auto& wj = j["workloads"][0];
  EXPECT_EQ(wj["runtime"], "llama.cpp");
  EXPECT_EQ(wj["flavor"], "node-llama-cpp");
  EXPECT_EQ(wj["parallel"].get<uint64_t>(), 2u);
  EXPECT_EQ(wj["vram"][0]["used_bytes"].get<uint64_t>(), 3ull << 30);
  EXPECT_EQ(wj["evidence"][0]["signal"], "library");
  EXPECT_EQ(wj["estimate"]["kv_cache_bytes"].get<uint64_t>(), 512ull << 20);
  EXPECT_EQ(wj["learned_peak"]["peak_bytes"].get<uint64_t>(), 6ull << 30);
  EXPECT_EQ(wj["learned_peak"]["runs"].get<uint32_t>(), 4u);
  EXPECT_TRUE(wj["container_id"].is_null());
  const auto& mj = j["loaded_models"][0];
  EXPECT_EQ(mj["runtime"], "llama.cpp");
  EXPECT_EQ(mj["context_length"].get<uint64_t>(), 2048u);  // per sequence, not x parallel
  EXPECT_EQ(mj["parallel"].get<uint64_t>(), 2u);
  EXPECT_EQ(mj["kv_cache_bytes"].get<uint64_t>(), 536870912u);
  EXPECT_EQ(mj["kv_estimated"], true);
  EXPECT_EQ(mj["kv_cache"]["capacity_bytes"]["source"], "estimated");
  EXPECT_EQ(j["profile"], "local_llm");
  EXPECT_TRUE(j["gpu_error"].is_null());
  EXPECT_EQ(j["collector_errors"][0]["collector"], "runtimes");
}

TEST(SnapshotJson, RoundTripKeepsTheFactsViewsShow) {
  const Snapshot a = sample();
  auto b = from_json(to_json(a));
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->host.meminfo.total_bytes, a.host.meminfo.total_bytes);
  EXPECT_EQ(b->host.meminfo.available_bytes, a.host.meminfo.available_bytes);
  ASSERT_EQ(b->gpus.size(), 1u);
  EXPECT_EQ(b->gpus[0].memory_used_bytes, a.gpus[0].memory_used_bytes);
  EXPECT_EQ(b->gpus[0].temperature_c, 71.5);
  EXPECT_EQ(b->gpus[0].vendor, gpu::Vendor::kNvidia);
  ASSERT_TRUE(b->gpus[0].throttle);
  EXPECT_TRUE(b->gpus[0].throttle->thermal);
  ASSERT_EQ(b->workloads.size(), 1u);
  const Workload& w = b->workloads[0];
  EXPECT_EQ(w.pids, (std::vector<int>{42, 43}));
  EXPECT_EQ(w.parallel, 2u);
  EXPECT_EQ(w.rss_bytes, 123456789u);
  ASSERT_TRUE(w.estimate);
  EXPECT_EQ(w.estimate->kv_cache_bytes, 512ull << 20);
  ASSERT_TRUE(w.learned_peak);
  EXPECT_EQ(w.learned_peak->peak_bytes, 6ull << 30);
  EXPECT_EQ(w.learned_peak->runs, 4u);
  ASSERT_EQ(b->loaded_models.size(), 1u);
  const runtimes::LoadedModel& m = b->loaded_models[0];
  EXPECT_EQ(m.runtime, runtimes::RuntimeKind::kLlamaCpp);
  EXPECT_EQ(m.context_tokens, 2048u);
  EXPECT_EQ(m.parallel, 2u);
  EXPECT_EQ(m.kv.capacity_bytes.value, 536870912u);
  EXPECT_EQ(m.kv.capacity_bytes.source, runtimes::Provenance::kEstimated);
  EXPECT_FALSE(m.kv.used_bytes.known());  // not made up on the way back
  EXPECT_EQ(m.idle_seconds, 12.5);
  EXPECT_EQ(m.n_layers, 29u);
  EXPECT_EQ(b->profile, "local_llm");
  ASSERT_EQ(b->warnings.size(), 1u);
  EXPECT_EQ(b->warnings[0].action, "ai unload x");
  ASSERT_EQ(b->errors.size(), 1u);
  // And the document made again from the copy is the same document.
  EXPECT_EQ(to_json(*b)["loaded_models"], to_json(a)["loaded_models"]);
}

TEST(SnapshotJson, HostileDocumentsNeverThrowAndStayBounded) {
  EXPECT_FALSE(from_json(nlohmann::json::array()));
  EXPECT_FALSE(from_json(nlohmann::json{{"schema", "someone-else/9"}}));
  nlohmann::json bad = {
      {"host", {{"total_bytes", -5}, {"available_bytes", "lots"}}},
      {"gpus",
       {{{"index", 1e300}, {"name", std::string("evil\x1b[2J\x07", 9)}}, {{"used_bytes", -1}}, 7}},
      {"workloads", "not a list"},
      {"loaded_models", {{{"runtime", "nosuch"}, {"kv_cache_usage", 7.5}}}}};
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 5000; ++i) many.push_back({{"message", "x"}});
  bad["warnings"] = many;
  auto s = from_json(bad);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->host.meminfo.total_bytes, 0u);
  ASSERT_EQ(s->gpus.size(), 3u);
  EXPECT_EQ(s->gpus[0].index, 0u);          // out of range: its position, never a wild index
  EXPECT_EQ(s->gpus[0].name, "evil?[2J?");  // no control byte reaches a view
  EXPECT_FALSE(s->gpus[1].memory_used_bytes);
  EXPECT_TRUE(s->workloads.empty());
  ASSERT_EQ(s->loaded_models.size(), 1u);
  EXPECT_EQ(runtimes::runtime_name(s->loaded_models[0].runtime), "unknown");
  EXPECT_FALSE(s->loaded_models[0].kv.usage_ratio.known());  // 7.5 is no share
  EXPECT_EQ(s->warnings.size(), kMaxRows);
}

}  // namespace
}  // namespace memopt::snapshot
