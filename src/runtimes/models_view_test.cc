#include "runtimes/models_view.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace memopt::runtimes {
namespace {

TEST(ModelsView, Rfc3339) {
  EXPECT_EQ(*parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*parse_rfc3339("2026-09-12T14:39:02.112301-07:00"), 1789249142);
  EXPECT_EQ(*parse_rfc3339("2026-09-12T21:39:02Z"), 1789249142);
  EXPECT_GT(*parse_rfc3339("2318-12-23T21:25:48.692305Z"), 10'000'000'000LL);
  EXPECT_FALSE(parse_rfc3339("2026-09-12"));
  EXPECT_FALSE(parse_rfc3339("2026-13-12T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-09-12T00:00:00+0700"));
  EXPECT_FALSE(parse_rfc3339("2026-09-12T00:00:00Zjunk"));
}

TEST(ModelsView, ExpiryAndProcessor) {
  LoadedModel m;
  m.runtime = RuntimeKind::kOllama;
  const int64_t now = 1789249142;
  m.expires_at = "2026-09-12T21:43:02Z";
  EXPECT_EQ(*expires_in_seconds(m, now), 240);
  EXPECT_EQ(expiry_text(m, now), "in 4m");
  m.expires_at = "2026-09-12T21:39:00Z";
  EXPECT_EQ(expiry_text(m, now), "stopping");
  m.expires_at = "2318-12-23T21:25:48.692305Z";
  EXPECT_FALSE(expires_in_seconds(m, now));
  EXPECT_EQ(expiry_text(m, now), "never");
  m.expires_at.clear();
  EXPECT_EQ(expiry_text(m, now), "-");

  EXPECT_EQ(processor_text(m), "-");
  m.size_bytes = 21474836480;
  m.vram_bytes = 17179869184;
  EXPECT_EQ(processor_text(m), "20%/80% CPU/GPU");
  m.vram_bytes = m.size_bytes;
  EXPECT_EQ(processor_text(m), "100% GPU");
  m.vram_bytes = 0;
  EXPECT_EQ(processor_text(m), "100% CPU");
  m.vram_bytes = *m.size_bytes + 1;
  EXPECT_EQ(processor_text(m), "?");
}

TEST(ModelsView, KvTextMarksEstimates) {
  KVCacheMetrics kv;
  EXPECT_EQ(kv_text(kv), "-");
  kv.capacity_tokens = Figure<uint64_t>::measured(488960);
  kv.usage_ratio = Figure<double>::measured(0.4182638888888889);
  kv.complete(std::nullopt);
  EXPECT_EQ(kv_text(kv), "42% 205k/489k");
  KVCacheMetrics est;
  est.capacity_tokens = Figure<uint64_t>::estimated(196608);
  est.used_tokens = Figure<uint64_t>::estimated(6158);
  est.complete(131072);
  EXPECT_EQ(kv_text(est), "3% 6.2k/197k~");
  EXPECT_EQ(*est.capacity_bytes.value, 196608ULL * 131072ULL);
  EXPECT_EQ(est.capacity_bytes.source, Provenance::kEstimated);
  auto j = kv_to_json(est);
  EXPECT_EQ(j["used_tokens"]["value"], 6158);
  EXPECT_EQ(j["used_tokens"]["source"], "estimated");
  EXPECT_TRUE(j["capacity_tokens"].is_object());
  EXPECT_TRUE(kv_to_json(KVCacheMetrics{})["usage_ratio"].is_null());
}

TEST(ModelsView, ModelJson) {
  LoadedModel m;
  m.runtime = RuntimeKind::kOllama;
  m.name = "qwen3:8b";
  m.size_bytes = 100;
  m.vram_bytes = 25;
  m.expires_at = "2026-09-12T21:43:02Z";
  auto j = model_to_json(m, 1789249142);
  EXPECT_EQ(j["runtime"], "ollama");
  EXPECT_DOUBLE_EQ(j["gpu_share"].get<double>(), 0.25);
  EXPECT_EQ(j["expires_in_s"], 240);
  EXPECT_TRUE(j["context_tokens"].is_null());
}

}  // namespace
}  // namespace memopt::runtimes
