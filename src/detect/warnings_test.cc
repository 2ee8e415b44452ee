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

proc::HostMemory host(uint64_t total, uint64_t available) {
  proc::HostMemory h;
  h.meminfo.total_bytes = total;
  h.meminfo.available_bytes = available;
  return h;
}

gpu::GpuDevice device(uint32_t index, const std::string& name, uint64_t total, uint64_t used) {
  gpu::GpuDevice g;
  g.index = index;
  g.name = name;
  g.vendor = gpu::Vendor::kNvidia;
  g.memory_total_bytes = total;
  g.memory_used_bytes = used;
  return g;
}

TEST(OffloadSlowdown, BandwidthModel) {
  EXPECT_DOUBLE_EQ(offload_slowdown(0.0, 13), 1.0);
  EXPECT_DOUBLE_EQ(offload_slowdown(1.0, 13), 13.0);
  EXPECT_NEAR(offload_slowdown(0.3, 13), 0.7 + 3.9, 1e-9);
  EXPECT_DOUBLE_EQ(offload_slowdown(-1, 13), 1.0);  // clamped
}

TEST(Warnings, PartialOffloadNamesTheModelAndThePlanCommand) {
  Snapshot s;
  s.host = host(16ull << 30, 8ull << 30);
  runtimes::LoadedModel m;
  m.runtime = runtimes::RuntimeKind::kOllama;
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
  s.host = host(16ull << 30, 8ull << 30);
  snapshot::Workload ff;
  ff.runtime = "other";
  ff.runtime_name = "firefox";
  ff.vram_bytes = 1900ull << 20;
  snapshot::Workload xorg = ff;
  xorg.runtime_name = "Xorg";
  xorg.vram_bytes = 1200ull << 20;
  snapshot::Workload ai;
  ai.runtime = "ollama";
  ai.vram_bytes = 8ull << 30;
  s.workloads = {ai, ff, xorg};
  auto ws = make_warnings(s);
  const Warning* w = find_warning(ws, "non-AI");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->message, "3.0 GiB VRAM held by non-AI processes: firefox (1.9 GiB), Xorg (1.2 GiB)");
  // Below the threshold: silent.
  s.workloads = {ai};
  snapshot::Workload small = ff;
  small.vram_bytes = 100ull << 20;
  s.workloads.push_back(small);
  EXPECT_EQ(find_warning(make_warnings(s), "non-AI"), nullptr);
}

TEST(Warnings, FullGpuLowRamAndDeniedProcesses) {
  Snapshot s;
  s.host = host(16ull << 30, 1ull << 30);  // 6% available
  s.gpus.push_back(device(0, "RTX 4090", 24ull << 30, 23ull << 30));
  s.gpus.push_back(device(1, "RTX 3060", 12ull << 30, 2ull << 30));
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

}  // namespace
}  // namespace memopt::detect
