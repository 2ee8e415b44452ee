#include "detect/warnings.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace memopt::detect {
namespace {

const Warning* find_warning(const std::vector<Warning>& ws, std::string_view part) {
  for (const auto& w : ws)
    if (w.message.find(part) != std::string::npos) return &w;
  return nullptr;
}

TEST(OffloadSlowdown, BandwidthModel) {
  EXPECT_DOUBLE_EQ(offload_slowdown(0.0, 13), 1.0);
  EXPECT_DOUBLE_EQ(offload_slowdown(1.0, 13), 13.0);
  EXPECT_NEAR(offload_slowdown(0.3, 13), 0.7 + 3.9, 1e-9);
  EXPECT_DOUBLE_EQ(offload_slowdown(-1, 13), 1.0);  // clamped
}

TEST(Warnings, PartialOffloadNamesTheModelAndThePlanCommand) {
  Snapshot s;
  s.host = {16ull << 30, 8ull << 30, 0, 0};
  LoadedModel m;
  m.runtime = "ollama";
  m.name = "qwen2:7b";
  m.size_bytes = 10ull << 30;
  m.vram_bytes = 7ull << 30;  // 30% on CPU
  s.loaded_models.push_back(m);
  auto ws = make_warnings(s);
  const Warning* w = find_warning(ws, "qwen2:7b");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->message, "qwen2:7b is 30% on CPU: expect ~5x slower generation");
  EXPECT_EQ(w->action, "`ruvector-memopt ai plan qwen2:7b` shows a context that fits");
  // Fully on GPU: no warning.
  s.loaded_models[0].vram_bytes = s.loaded_models[0].size_bytes;
  EXPECT_EQ(find_warning(make_warnings(s), "qwen2:7b"), nullptr);
  // Entirely on CPU.
  s.loaded_models[0].vram_bytes = 0;
  auto cpu_only = make_warnings(s);  // keep the vector alive while `w` points into it
  w = find_warning(cpu_only, "qwen2:7b");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->message, "qwen2:7b runs entirely on CPU");
}

TEST(Warnings, NonAiVramHolders) {
  Snapshot s;
  s.host = {16ull << 30, 8ull << 30, 0, 0};
  Workload ff;
  ff.runtime = "other";
  ff.runtime_name = "firefox";
  ff.vram_bytes = 1900ull << 20;
  Workload xorg = ff;
  xorg.runtime_name = "Xorg";
  xorg.vram_bytes = 1200ull << 20;
  Workload ai;
  ai.runtime = "ollama";
  ai.vram_bytes = 8ull << 30;
  s.workloads = {ai, ff, xorg};
  auto ws = make_warnings(s);
  const Warning* w = find_warning(ws, "non-AI");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->message, "3.0 GiB VRAM held by non-AI processes: firefox (1.9 GiB), Xorg (1.2 GiB)");
  // Below the threshold: silent.
  s.workloads = {ai};
  Workload small = ff;
  small.vram_bytes = 100ull << 20;
  s.workloads.push_back(small);
  EXPECT_EQ(find_warning(make_warnings(s), "non-AI"), nullptr);
}

TEST(Warnings, FullGpuLowRamAndDeniedProcesses) {
  Snapshot s;
  s.host = {16ull << 30, 1ull << 30, 0, 0};  // 6% available
  s.gpus.push_back({0, "RTX 4090", "nvidia", 24ull << 30, 23ull << 30});
  s.gpus.push_back({1, "RTX 3060", "nvidia", 12ull << 30, 2ull << 30});
  s.scan.denied_processes = 3;
  auto ws = make_warnings(s);
  const Warning* g = find_warning(ws, "GPU 0");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->severity, "critical");
  EXPECT_EQ(g->message, "GPU 0 (RTX 4090) is 96% full: 1.0 GiB free");
  EXPECT_EQ(find_warning(ws, "GPU 1"), nullptr);
  const Warning* r = find_warning(ws, "RAM available");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->message, "only 1.0 GiB of 16.0 GiB RAM available (6%)");
  const Warning* d = find_warning(ws, "could not be inspected");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->message, "3 processes could not be inspected (permission denied)");
  EXPECT_NE(d->action.find("root"), std::string::npos);
}

TEST(SnapshotJson, CarriesEveryMemberWithBytesAsIntegers) {
  Snapshot s;
  s.taken_at_unix_ms = 1700000000000;
  s.host = {16ull << 30, 8ull << 30, 2ull << 30, 1ull << 30};
  s.gpus.push_back({0, "RTX 4090", "nvidia", 24ull << 30, 10ull << 30});
  s.gpu_backend = "nvml";
  Workload w;
  w.runtime = "llama.cpp";
  w.runtime_name = "llama.cpp";
  w.flavor = "node-llama-cpp";
  w.pid = 42;
  w.pids = {42};
  w.evidence.push_back({42, "library", "libllama.so", 0.8});
  w.endpoint = "http://127.0.0.1:8080";
  w.model = "tiny.gguf";
  w.vram = {{0, 3ull << 30}};
  w.vram_bytes = 3ull << 30;
  w.estimate = WorkloadEstimate{4096, 1ull << 30, 512ull << 20, 2ull << 30};
  s.workloads.push_back(w);
  s.profile = "local_llm";
  nlohmann::json j = s.to_json();
  EXPECT_EQ(j["host"]["used_bytes"].get<uint64_t>(), 8ull << 30);
  EXPECT_EQ(j["gpus"][0]["total_bytes"].get<uint64_t>(), 24ull << 30);
  const auto& wj = j["workloads"][0];
  EXPECT_EQ(wj["runtime"], "llama.cpp");
  EXPECT_EQ(wj["flavor"], "node-llama-cpp");
  EXPECT_EQ(wj["vram"][0]["used_bytes"].get<uint64_t>(), 3ull << 30);
  EXPECT_EQ(wj["evidence"][0]["signal"], "library");
  EXPECT_EQ(wj["estimate"]["kv_cache_bytes"].get<uint64_t>(), 512ull << 20);
  EXPECT_TRUE(wj["container_id"].is_null());
  EXPECT_EQ(j["profile"], "local_llm");
  EXPECT_TRUE(j["gpu_error"].is_null());
}

}  // namespace
}  // namespace memopt::detect
