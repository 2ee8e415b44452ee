// Every runtime client against the replay server serving the documented
// payloads from tests/fixtures/runtimes, and the failures it must explain.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtimes/image_gen.h"
#include "runtimes/llamacpp.h"
#include "runtimes/ollama.h"
#include "runtimes/probe.h"
#include "runtimes/sglang.h"
#include "runtimes/tgi.h"
#include "runtimes/vllm.h"
#include "support/replay_server.h"

namespace memopt::runtimes {
namespace {

using ::testing::HasSubstr;
using memopt::testing::Canned;
using memopt::testing::fixture;
using memopt::testing::ReplayServer;
using nlohmann::json;

HttpOptions fast() {
  HttpOptions o;
  o.connect_timeout = std::chrono::milliseconds(300);
  o.read_timeout = std::chrono::milliseconds(400);
  o.total_timeout = std::chrono::milliseconds(800);
  o.load_timeout = std::chrono::milliseconds(800);
  return o;
}
BaseUrl base_of(const ReplayServer& s) { return *parse_base_url(s.url(), 0); }

// ---------------------------------------------------------------- Ollama

TEST(Ollama, LoadedModelsFromPs) {
  ReplayServer s;
  s.on_fixture("GET /api/ps", "ollama-ps.json");
  OllamaClient c(base_of(s), fast());
  auto models = c.loaded_models();
  ASSERT_TRUE(models) << models.error().message;
  ASSERT_EQ(models->size(), 3u);
  const LoadedModel& gemma = (*models)[2];
  EXPECT_EQ(gemma.name, "gemma3:27b");
  EXPECT_EQ(*gemma.size_bytes, 21474836480u);
  EXPECT_EQ(*gemma.vram_bytes, 17179869184u);
  EXPECT_EQ(*gemma.context_tokens, 4096u);
  EXPECT_EQ(gemma.expires_at, "2026-09-12T14:39:02.112301-07:00");
  EXPECT_EQ(gemma.endpoint, s.url());
  EXPECT_EQ((*models)[0].expires_at.substr(0, 4), "2318");
}

TEST(Ollama, EmptyPsAndVersion) {
  ReplayServer s;
  s.on_fixture("GET /api/ps", "ollama-ps-empty.json");
  s.on_fixture("GET /api/version", "ollama-version.json");
  OllamaClient c(base_of(s), fast());
  EXPECT_TRUE(c.loaded_models()->empty());
  EXPECT_EQ(c.info()->version, "0.30.2");
}

TEST(Ollama, TagsAndShow) {
  ReplayServer s;
  s.on_fixture("GET /api/tags", "ollama-tags.json");
  s.on_fixture("POST /api/show", "ollama-show.json");
  OllamaClient c(base_of(s), fast());
  auto tags = c.installed_models();
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].name, "qwen3:8b");
  EXPECT_EQ((*tags)[0].size_bytes, 5225388164u);
  EXPECT_EQ(*(*tags)[0].context_length, 40960u);
  EXPECT_FALSE((*tags)[1].context_length.has_value());
  auto d = c.show("llama3.1:8b");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->architecture, "llama");
  EXPECT_EQ(*d->block_count, 32u);
  EXPECT_EQ(*d->head_count_kv, 8u);
  EXPECT_EQ(d->model_path,
            "/usr/share/ollama/.ollama/models/blobs/"
            "sha256-667b0c1932bc6ffc593ed1d03f895bf2dc8dc6df21db3042284a6f4416b06a29");
  // 32 layers × 8 KV heads × (128 + 128) × 2 bytes = 128 KiB (research §8).
  EXPECT_EQ(*d->kv_bytes_per_token_f16(), 131072u);
  EXPECT_EQ(json::parse(s.requests_to("POST", "/api/show")[0].body),
            json::parse(R"({"model":"llama3.1:8b"})"));
}

TEST(Ollama, UnloadSendsExactlyTheDocumentedRequest) {
  ReplayServer s;
  s.on_fixture("POST /api/generate", "ollama-generate-unload.json");
  OllamaClient c(base_of(s), fast());
  auto st = c.unload("llama3.2");
  ASSERT_TRUE(st) << st.error().message;
  auto reqs = s.requests_to("POST", "/api/generate");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(json::parse(reqs[0].body), json::parse(R"({"model":"llama3.2","keep_alive":0})"));
}

TEST(Ollama, PreloadSendsKeepAliveAndOptions) {
  ReplayServer s;
  s.on_fixture("POST /api/generate", "ollama-generate-load.json");
  OllamaClient c(base_of(s), fast());
  ASSERT_TRUE(c.preload("llama3.2", PreloadOptions{"30m", std::nullopt, std::nullopt, std::nullopt}));
  ASSERT_TRUE(c.preload("llama3.2", PreloadOptions{"-1", std::nullopt, std::nullopt, std::nullopt}));
  ASSERT_TRUE(c.preload("llama3.2", PreloadOptions{"", 20, 8192, std::nullopt}));
  auto reqs = s.requests_to("POST", "/api/generate");
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(json::parse(reqs[0].body), json::parse(R"({"model":"llama3.2","keep_alive":"30m"})"));
  EXPECT_EQ(json::parse(reqs[1].body), json::parse(R"({"model":"llama3.2","keep_alive":-1})"));
  EXPECT_EQ(json::parse(reqs[2].body),
            json::parse(R"({"model":"llama3.2","options":{"num_ctx":8192,"num_gpu":20}})"));
}

TEST(Ollama, KeepAliveValidation) {
  for (const char* ok : {"30m", "1h30m", "-1", "0", "300", "2.5h", "10s", "-1m"}) {
    EXPECT_TRUE(valid_keep_alive(ok)) << ok;
  }
  for (const char* bad : {"", "30 minutes", "m", "1d", "--1", "1h-", "forever"}) {
    EXPECT_FALSE(valid_keep_alive(bad)) << bad;
  }
}

TEST(Ollama, UnloadOfUnknownModelNamesTheServerMessage) {
  ReplayServer s;
  s.on("POST /api/generate", 404, "{\"error\":\"model 'llama9' not found\"}");
  OllamaClient c(base_of(s), fast());
  auto st = c.unload("llama9");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message,
            "POST " + s.url() + "/api/generate: HTTP 404: model 'llama9' not found");
}

TEST(Ollama, ServerErrorAndMalformedJson) {
  ReplayServer s;
  s.on("GET /api/ps", 500, "{\"error\":\"runner crashed\"}");
  OllamaClient c(base_of(s), fast());
  EXPECT_THAT(c.loaded_models().error().message, HasSubstr("HTTP 500: runner crashed"));
  s.on("GET /api/ps", 200, "{\"models\": [ {\"name\": ");
  EXPECT_THAT(c.loaded_models().error().message, HasSubstr("not valid JSON"));
  s.on("GET /api/ps", 200, "{\"something\":1}");
  EXPECT_THAT(c.loaded_models().error().message, HasSubstr("no \"models\" array"));
  // Hostile values are skipped, not trusted.
  s.on("GET /api/ps", 200,
       R"({"models":[{"name":"m","size":-5,"size_vram":"big","context_length":1e300},7]})");
  auto m = c.loaded_models();
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_FALSE((*m)[0].size_bytes);
  EXPECT_FALSE((*m)[0].vram_bytes);
  EXPECT_FALSE((*m)[0].context_tokens);
}

// ---------------------------------------------------------------- llama.cpp

void serve_llamacpp(ReplayServer& s, const char* metrics) {
  s.on_fixture("GET /health", "llamacpp-health-ok.json");
  s.on_fixture("GET /props", "llamacpp-props.json");
  s.on_fixture("GET /slots", "llamacpp-slots.json");
  s.on_fixture("GET /v1/models", "llamacpp-v1-models.json");
  if (metrics != nullptr) s.on_fixture("GET /metrics", metrics);
}

TEST(LlamaCpp, KvFromSlotsWhenTheGaugesAreGone) {
  ReplayServer s;
  serve_llamacpp(s, "llamacpp-metrics.txt");
  LlamaCppClient c(base_of(s), fast());
  EXPECT_EQ(c.info()->version, "b6700-1a2b3c4d");
  auto models = c.loaded_models();
  ASSERT_TRUE(models) << models.error().message;
  ASSERT_EQ(models->size(), 1u);
  const LoadedModel& m = (*models)[0];
  EXPECT_EQ(m.name, "../models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf");
  EXPECT_EQ(*m.size_bytes, 4912898304u);
  EXPECT_EQ(m.model_path, "/models/Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf");
  EXPECT_EQ(*m.context_tokens, 16384u);
  EXPECT_EQ(*m.parallel, 4u);
  // 3 slots × 65536; used = (3812 + 0) + (2210 + 136).
  EXPECT_EQ(*m.kv.capacity_tokens.value, 196608u);
  EXPECT_EQ(m.kv.capacity_tokens.source, Provenance::kEstimated);
  EXPECT_EQ(*m.kv.used_tokens.value, 6158u);
  EXPECT_EQ(m.kv.used_tokens.source, Provenance::kEstimated);
  EXPECT_NEAR(*m.kv.usage_ratio.value, 6158.0 / 196608.0, 1e-12);
  EXPECT_EQ(m.kv.usage_ratio.source, Provenance::kEstimated);
}

TEST(LlamaCpp, LegacyGaugesAreMeasurements) {
  ReplayServer s;
  serve_llamacpp(s, "llamacpp-metrics-legacy.txt");
  LlamaCppClient c(base_of(s), fast());
  auto m = c.loaded_models();
  ASSERT_TRUE(m);
  EXPECT_EQ(*(*m)[0].kv.used_tokens.value, 1078u);
  EXPECT_EQ((*m)[0].kv.used_tokens.source, Provenance::kMeasured);
  EXPECT_DOUBLE_EQ(*(*m)[0].kv.usage_ratio.value, 0.131592);
  EXPECT_EQ((*m)[0].kv.usage_ratio.source, Provenance::kMeasured);
  EXPECT_EQ(*(*m)[0].requests_running, 0u);
}

TEST(LlamaCpp, NoMetricsNoSlotsStillRenders) {
  ReplayServer s;
  s.on_fixture("GET /props", "llamacpp-props.json");
  s.on_fixture("GET /metrics", "llamacpp-error-metrics-disabled.json", 501);
  LlamaCppClient c(base_of(s), fast());
  auto m = c.loaded_models();
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ((*m)[0].name, "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf");
  EXPECT_EQ(*(*m)[0].kv.capacity_tokens.value, 16384u * 4u);
  EXPECT_FALSE((*m)[0].kv.used_tokens.known());
}

TEST(LlamaCpp, SlotsNextTokenArrayVariant) {
  auto slots = parse_llamacpp_slots(fixture("llamacpp-slots-next-token-array.json"), "t");
  ASSERT_TRUE(slots) << slots.error().message;
  ASSERT_FALSE(slots->empty());
  EXPECT_TRUE((*slots)[0].tokens_in_use.has_value());
}

TEST(LlamaCpp, LoadingServerIsNotReady) {
  ReplayServer s;
  s.on_fixture("GET /health", "llamacpp-health-loading.json", 503);
  LlamaCppClient c(base_of(s), fast());
  auto i = c.info();
  ASSERT_TRUE(i);
  EXPECT_FALSE(i->ready);
  EXPECT_EQ(i->status, "Loading model");
}

TEST(LlamaCpp, SingleModelServerCannotUnload) {
  ReplayServer s;
  serve_llamacpp(s, nullptr);
  LlamaCppClient c(base_of(s), fast());
  auto st = c.unload("x");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("not supported by llama.cpp"));
  EXPECT_THAT(st.error().message, HasSubstr("--sleep-idle-seconds"));
  EXPECT_TRUE(s.requests_to("POST", "/models/unload").empty());
}

TEST(LlamaCpp, RouterModeListsAndUnloads) {
  ReplayServer s;
  s.on_fixture("GET /props", "llamacpp-props-router.json");
  s.on_fixture("GET /models", "llamacpp-router-models.json");
  s.on("POST /models/unload", 200, "{\"success\":true}");
  LlamaCppClient c(base_of(s), fast());
  auto m = c.loaded_models();
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].name, "ggml-org/gemma-3-4b-it-GGUF:Q4_K_M");
  EXPECT_EQ((*m)[0].state, "loaded");
  EXPECT_EQ((*m)[1].state, "sleeping");
  ASSERT_TRUE(c.unload("Qwen3-8B-Q4_K_M"));
  auto reqs = s.requests_to("POST", "/models/unload");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(json::parse(reqs[0].body), json::parse(R"({"model":"Qwen3-8B-Q4_K_M"})"));
}

TEST(LlamaCpp, SlotErase) {
  ReplayServer s;
  s.on_fixture("POST /slots/0", "llamacpp-slot-erase.json");
  LlamaCppClient c(base_of(s), fast());
  auto n = c.erase_slot(0);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 1745u);
  EXPECT_EQ(s.requests_to("POST", "/slots/0")[0].query, "action=erase");
}

// ---------------------------------------------------------------- vLLM

TEST(Vllm, CurrentMetrics) {
  ReplayServer s;
  s.on_fixture("GET /v1/models", "vllm-v1-models.json");
  s.on_fixture("GET /metrics", "vllm-metrics.txt");
  VllmClient c(base_of(s), fast());
  auto m = c.loaded_models();
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 1u);  // the LoRA adapter rides on its base
  const LoadedModel& q = (*m)[0];
  EXPECT_EQ(q.name, "Qwen/Qwen3-8B");
  EXPECT_EQ(*q.context_tokens, 32768u);
  EXPECT_EQ(*q.kv.capacity_tokens.value, 488960u);
  EXPECT_EQ(q.kv.capacity_tokens.source, Provenance::kMeasured);
  EXPECT_DOUBLE_EQ(*q.kv.usage_ratio.value, 0.4182638888888889);
  EXPECT_EQ(*q.kv.used_tokens.value, 204514u);  // round(0.41826… × 488960 = 204514.3)
  EXPECT_EQ(q.kv.used_tokens.source, Provenance::kMeasured);
  EXPECT_EQ(*q.requests_running, 12u);
  EXPECT_EQ(*q.requests_waiting, 3u);
  EXPECT_EQ(q.state, "loaded");
}

TEST(Vllm, LegacyMetricsFallBack) {
  auto page = parse_prometheus_text(fixture("vllm-metrics-legacy-v0.10.txt"));
  VllmEngineState st = vllm_engine_state(page, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(*st.kv.capacity_tokens.value, 27648u * 16u);
  EXPECT_EQ(st.kv.capacity_tokens.source, Provenance::kEstimated);
  EXPECT_DOUBLE_EQ(*st.kv.usage_ratio.value, 0.0731);
  EXPECT_DOUBLE_EQ(*st.gpu_memory_utilization, 0.9);
  EXPECT_EQ(*st.preemptions, 0u);
  EXPECT_TRUE(st.sleep_state.empty());
  // Another model's series are not counted.
  VllmEngineState other = vllm_engine_state(page, "someone/else");
  EXPECT_FALSE(other.kv.usage_ratio.known());
}

TEST(Vllm, SleepAndWake) {
  ReplayServer s;
  s.on_fixture("GET /v1/models", "vllm-v1-models.json");
  s.on("POST /sleep", 200, "");
  s.on("POST /wake_up", 200, "");
  s.on_fixture("GET /is_sleeping", "vllm-is-sleeping-true.json");
  VllmClient c(base_of(s), fast());
  ASSERT_TRUE(c.unload("Qwen/Qwen3-8B"));
  EXPECT_EQ(s.requests_to("POST", "/sleep")[0].query, "level=1");
  EXPECT_TRUE(*c.is_sleeping());
  ASSERT_TRUE(c.preload("Qwen/Qwen3-8B", {}));
  EXPECT_EQ(s.requests_to("POST", "/wake_up").size(), 1u);
  auto wrong = c.unload("not-served");
  ASSERT_FALSE(wrong);
  EXPECT_THAT(wrong.error().message, HasSubstr("does not serve 'not-served'"));
}

TEST(Vllm, SleepWithoutDevModeIsNotSupported) {
  ReplayServer s;
  s.on_fixture("GET /v1/models", "vllm-v1-models.json");
  VllmClient c(base_of(s), fast());
  auto st = c.unload("Qwen/Qwen3-8B");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("not supported by vllm"));
  EXPECT_THAT(st.error().message, HasSubstr("VLLM_SERVER_DEV_MODE=1"));
}

// ---------------------------------------------------------------- SGLang, TGI

TEST(Sglang, ServerInfoAndMetrics) {
  ReplayServer s;
  s.on_fixture("GET /server_info", "sglang-server-info.json");
  s.on_fixture("GET /metrics", "sglang-metrics.txt");
  SglangClient c(base_of(s), fast());
  EXPECT_EQ(c.info()->version, "0.5.9");
  auto m = c.loaded_models();
  ASSERT_TRUE(m) << m.error().message;
  const LoadedModel& lm = (*m)[0];
  EXPECT_EQ(lm.name, "qwen/qwen2.5-0.5b-instruct");
  EXPECT_EQ(*lm.kv.capacity_tokens.value, 20480u);
  // 0.23 "GB" of KV pool, in units of 2^30 bytes.
  EXPECT_EQ(*lm.kv.capacity_bytes.value, 246960620u);
  EXPECT_DOUBLE_EQ(*lm.kv.usage_ratio.value, 0.28);
  EXPECT_EQ(*lm.requests_running, 162u);
  // (0.98 + 0.23 + 0.57) GiB
  EXPECT_NEAR(static_cast<double>(*lm.vram_bytes), 1.78 * (1ULL << 30), 2.0);
}

TEST(Sglang, OldEndpointNameAndReleaseNeedsMemorySaver) {
  ReplayServer s;
  s.on_fixture("GET /get_server_info", "sglang-server-info.json");
  SglangClient c(base_of(s), fast());
  ASSERT_TRUE(c.server_info());
  auto st = c.unload("qwen/qwen2.5-0.5b-instruct");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("--enable-memory-saver"));
  EXPECT_TRUE(s.requests_to("POST", "/release_memory_occupation").empty());
}

TEST(Sglang, ReleasePausesFirst) {
  ReplayServer s;
  std::string info = fixture("sglang-server-info.json");
  info.replace(info.find("\"enable_memory_saver\": false"), 28, "\"enable_memory_saver\": true ");
  s.on("GET /server_info", 200, info);
  s.on("POST /pause_generation", 200, "{}");
  s.on("POST /release_memory_occupation", 200, "{}");
  SglangClient c(base_of(s), fast());
  ASSERT_TRUE(c.unload("qwen/qwen2.5-0.5b-instruct"));
  auto reqs = s.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].path, "/pause_generation");
  EXPECT_EQ(reqs[2].path, "/release_memory_occupation");
}

TEST(Tgi, InfoAndMetricsAndNoUnload) {
  ReplayServer s;
  s.on_fixture("GET /info", "tgi-info.json");
  s.on_fixture("GET /metrics", "tgi-metrics.txt");
  TgiClient c(base_of(s), fast());
  auto m = c.loaded_models();
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ((*m)[0].name, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(*(*m)[0].context_tokens, 4096u);
  EXPECT_EQ(*(*m)[0].requests_waiting, 2u);
  EXPECT_EQ(*(*m)[0].kv.used_tokens.value, 38912u);
  EXPECT_EQ((*m)[0].kv.used_tokens.source, Provenance::kEstimated);
  auto st = c.unload("meta-llama/Llama-3.1-8B-Instruct");
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message, HasSubstr("not supported by tgi"));
}

// ---------------------------------------------------------------- image generation

// Field names from ComfyUI server.py (GET /system_stats).
constexpr const char* kComfyStats = R"({"system":{"os":"posix","ram_total":67108864000,
  "ram_free":40000000000,"comfyui_version":"0.3.40","python_version":"3.12",
  "pytorch_version":"2.7.0","embedded_python":false,"argv":["main.py"]},
  "devices":[{"name":"cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync","type":"cuda",
  "index":0,"vram_total":25393692672,"vram_free":12000000000,
  "torch_vram_total":9663676416,"torch_vram_free":1073741824}]})";

TEST(ComfyUI, TorchReservedVramAndFree) {
  ReplayServer s;
  s.on("GET /system_stats", 200, kComfyStats);
  s.on("GET /queue", 200, R"({"queue_running":[["a"]],"queue_pending":[]})");
  s.on("POST /free", 200, "");
  ComfyUIClient c(base_of(s), fast());
  EXPECT_EQ(c.info()->version, "0.3.40");
  auto m = c.loaded_models();
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ(*(*m)[0].vram_bytes, 9663676416u);
  EXPECT_EQ(*(*m)[0].requests_running, 1u);
  ASSERT_TRUE(c.unload(std::string(kComfyModelName)));
  EXPECT_EQ(json::parse(s.requests_to("POST", "/free")[0].body),
            json::parse(R"({"unload_models":true,"free_memory":true})"));
  EXPECT_FALSE(c.unload("sdxl.safetensors"));
}

TEST(A1111, CheckpointAndUnload) {
  ReplayServer s;
  s.on("GET /sdapi/v1/options", 200, R"({"sd_model_checkpoint":"v1-5-pruned.safetensors [6ce0161689]"})");
  s.on("POST /sdapi/v1/unload-checkpoint", 200, "null");
  A1111Client c(base_of(s), fast());
  auto m = c.loaded_models();
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)[0].name, "v1-5-pruned.safetensors [6ce0161689]");
  ASSERT_TRUE(c.unload((*m)[0].name));
  EXPECT_EQ(s.requests_to("POST", "/sdapi/v1/unload-checkpoint").size(), 1u);
}

TEST(ComfyUI, RenderQueueCountsRunningAndPendingPrompts) {
  ReplayServer s;
  s.on_fixture("GET /queue", "comfyui-queue-busy.json");
  ComfyUIClient c(base_of(s), fast());
  auto q = c.render_queue();
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->running, 1u);
  EXPECT_EQ(q->pending, 2u);
  EXPECT_TRUE(q->busy());
  EXPECT_EQ(q->detail, "prompt 6f962d0e-40d9-45e8-b378-7247258cadde");
  EXPECT_EQ(*c.queue_length(), 3u);
  s.on_fixture("GET /queue", "comfyui-queue-empty.json");
  q = c.render_queue();
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->busy());
  EXPECT_EQ(q->detail, "");
}

TEST(ComfyUI, RenderQueueFailuresSayWhat) {
  ReplayServer s;
  ComfyUIClient c(base_of(s), fast());
  s.on("GET /queue", 200, R"({"queue_running": 3, "queue_pending": []})");
  auto q = c.render_queue();
  ASSERT_FALSE(q);
  EXPECT_THAT(q.error().message, HasSubstr("/queue: no \"queue_running\" and \"queue_pending\""));
  s.on("GET /queue", 200, "<html>");
  q = c.render_queue();
  ASSERT_FALSE(q);
  EXPECT_THAT(q.error().message, HasSubstr("not valid JSON"));
  s.on("GET /queue", 500, R"({"error":"boom"})");
  q = c.render_queue();
  ASSERT_FALSE(q);
  EXPECT_THAT(q.error().message, HasSubstr("500"));
  // A server that never answers: an error within the client's timeouts.
  s.on("GET /queue", Canned{200, "{}", "application/json", Canned::Kind::kSlow,
                            std::chrono::milliseconds(3000)});
  const auto t0 = std::chrono::steady_clock::now();
  q = c.render_queue();
  ASSERT_FALSE(q);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
}

TEST(A1111, RenderQueueFromProgress) {
  ReplayServer s;
  s.on_fixture("GET /sdapi/v1/progress", "a1111-progress-busy.json");
  A1111Client c(base_of(s), fast());
  auto q = c.render_queue();
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->running, 1u);
  EXPECT_EQ(q->pending, 2u);  // job 2 of 4 runs: two more to go
  EXPECT_EQ(q->detail, "txt2img");
  ASSERT_EQ(s.requests_to("GET", "/sdapi/v1/progress").size(), 1u);
  EXPECT_EQ(s.requests_to("GET", "/sdapi/v1/progress")[0].query, "skip_current_image=true");
  s.on_fixture("GET /sdapi/v1/progress", "a1111-progress-idle.json");
  q = c.render_queue();
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->busy());
  // A task of unknown length (job_count -1) runs all the same.
  s.on("GET /sdapi/v1/progress", 200, R"({"progress":0.1,"state":{"job":"extras","job_count":-1}})");
  q = c.render_queue();
  ASSERT_TRUE(q);
  EXPECT_EQ(q->running, 1u);
  EXPECT_EQ(q->pending, 0u);
  s.on("GET /sdapi/v1/progress", 200, R"({"progress":0.1,"state":{"job_count":"4"}})");
  q = c.render_queue();
  ASSERT_FALSE(q);
  EXPECT_THAT(q.error().message, HasSubstr("\"state.job_count\" is missing or not a whole number"));
  s.on("GET /sdapi/v1/progress", 200, R"({"detail":"Not Found"})");
  q = c.render_queue();
  ASSERT_FALSE(q);
  EXPECT_THAT(q.error().message, HasSubstr("is this the AUTOMATIC1111 API (--api)?"));
}

TEST(ImageGen, VanishedServerIsAnErrorNotAHang) {
  int port = 0;
  {
    ReplayServer s;
    port = s.port();
  }
  const auto t0 = std::chrono::steady_clock::now();
  BaseUrl gone{"http", "127.0.0.1", port};
  EXPECT_FALSE(ComfyUIClient(gone, fast()).render_queue());
  EXPECT_FALSE(A1111Client(gone, fast()).render_queue());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
}

// ---------------------------------------------------------------- probe, discovery

TEST(Probe, IdentifiesEachRuntime) {
  struct Case {
    RuntimeKind kind;
    std::vector<std::pair<std::string, std::string>> routes;
  };
  std::vector<Case> cases = {
      {RuntimeKind::kOllama, {{"GET /api/version", "ollama-version.json"}}},
      {RuntimeKind::kLlamaCpp, {{"GET /props", "llamacpp-props.json"}}},
      {RuntimeKind::kLlamaCpp, {{"GET /props", "llamacpp-props-router.json"}}},
      {RuntimeKind::kVllm, {{"GET /v1/models", "vllm-v1-models.json"}, {"GET /version", "vllm-version.json"}}},
      {RuntimeKind::kTgi, {{"GET /info", "tgi-info.json"}}},
      {RuntimeKind::kSglang, {{"GET /server_info", "sglang-server-info.json"}}},
  };
  for (const Case& c : cases) {
    ReplayServer s;
    for (const auto& [route, file] : c.routes) s.on_fixture(route, file);
    auto k = probe(s.url(), fast());
    ASSERT_TRUE(k) << k.error().message;
    EXPECT_EQ(*k, c.kind) << c.routes[0].second;
  }
  ReplayServer comfy;
  comfy.on("GET /system_stats", 200, kComfyStats);
  EXPECT_EQ(*probe(comfy.url(), fast()), RuntimeKind::kComfyUI);
}

TEST(Probe, UnknownServerAndNothingListening) {
  ReplayServer s;
  auto k = probe(s.url(), fast());
  ASSERT_FALSE(k);
  EXPECT_THAT(k.error().message, HasSubstr("is not Ollama, "));
  EXPECT_THAT(k.error().message, HasSubstr("llama.cpp, vLLM"));
  int port = s.port();
  std::string url = s.url();
  {
    ReplayServer other;
    port = other.port();
  }
  auto dead = probe("127.0.0.1:" + std::to_string(port), fast());
  ASSERT_FALSE(dead);
  EXPECT_THAT(dead.error().message, HasSubstr("connection refused"));
}

TEST(Discovery, ExplicitEndpointsWin) {
  DiscoveryInput in;
  in.explicit_endpoints.push_back({RuntimeKind::kVllm, *parse_base_url("127.0.0.1:9000", 0), false});
  in.detected.push_back({RuntimeKind::kOllama, *parse_base_url("127.0.0.1:11434", 0), false});
  auto e = discover_endpoints(in);
  ASSERT_TRUE(e);
  ASSERT_EQ(e->size(), 1u);
  EXPECT_TRUE((*e)[0].explicit_);
  EXPECT_EQ((*e)[0].url.str(), "http://127.0.0.1:9000");
}

TEST(Discovery, DefaultsPlusDetectedPlusOllamaHost) {
  DiscoveryInput in;
  in.detected.push_back({std::nullopt, *parse_base_url("127.0.0.1:8080", 0), false});
  in.detected.push_back({RuntimeKind::kLlamaCpp, *parse_base_url("127.0.0.1:9090", 0), false});
  in.host_env["OLLAMA_HOST"] = "0.0.0.0:12345";
  auto e = discover_endpoints(in);
  ASSERT_TRUE(e);
  // 2 detected (8080 merges with llama.cpp's default) + OLLAMA_HOST + 7 other defaults.
  ASSERT_EQ(e->size(), 9u);
  EXPECT_EQ((*e)[0].url.str(), "http://127.0.0.1:8080");
  EXPECT_EQ((*e)[0].kind, RuntimeKind::kLlamaCpp);
  EXPECT_EQ((*e)[2].url.str(), "http://127.0.0.1:12345");
  EXPECT_EQ((*e)[2].kind, RuntimeKind::kOllama);
  for (const Endpoint& x : *e) EXPECT_NE(x.url.port, 11434);
  in.host_env["OLLAMA_HOST"] = "bad://x";
  EXPECT_FALSE(discover_endpoints(in));
}

}  // namespace
}  // namespace memopt::runtimes
