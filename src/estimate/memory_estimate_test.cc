// The expected figures in the first tests are llama.cpp's own: node-llama-cpp
// 3.21.1's bundled llama.cpp (tag v0.4.0 build) loading the tiny models on the
// CPU backend, memory_breakdown() per buffer (tests/node/llama_ground_truth.mjs
// prints them; tests/estimate_accuracy.cmake re-checks them on every run).
#include "estimate/memory_estimate.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/synthetic_model.h"
#include "support/tiny_models.h"

namespace memopt::estimate {
namespace {

using testing::tiny_model_info;
using testing::TinyArch;

constexpr uint32_t kF16 = 1, kQ8_0 = 8, kQ4_0 = 2;

RunSettings settings(uint64_t ctx, bool fa, uint32_t type = kF16, uint32_t parallel = 1) {
  RunSettings s;
  s.ctx_per_seq = ctx;
  s.flash_attn = fa;
  s.type_k = s.type_v = type;
  s.parallel = parallel;
  s.n_batch = 512;
  s.n_ubatch = 512;
  return s;
}

MemoryEstimate cpu_estimate(TinyArch arch, const RunSettings& s) {
  auto e = estimate_memory_requirements(tiny_model_info(arch), s, Placement{});
  EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
  return e.ok() ? *e : MemoryEstimate{};
}

// Tiny models (64 wide): the allocator slack fitted at real sizes is a larger
// share of their graphs, so +16% here; real sizes are held to +10% by
// tests/node/estimate_real_accuracy.mjs.
void expect_compute_within(uint64_t ours, uint64_t llama) {
  EXPECT_GE(ours, llama);
  EXPECT_LE(static_cast<double>(ours), static_cast<double>(llama) * 1.16);
}

TEST(MemoryEstimate, LlamaGqaMatchesLlamaCppOnCpu) {
  const auto e = cpu_estimate(TinyArch::kLlamaGqa, settings(1024, false));
  ASSERT_EQ(e.devices.size(), 1u);
  EXPECT_EQ(e.devices[0].weights_bytes, 1331712u);
  EXPECT_EQ(e.devices[0].kv_bytes, 1048576u);  // 1024 cells x 4 layers x (64 + 64) x 2 B
  EXPECT_EQ(e.kv_cells_full, 1024u);
  expect_compute_within(e.devices[0].compute_bytes, 12068864u);
  EXPECT_EQ(e.devices[0].layers, 4u);
  EXPECT_TRUE(e.devices[0].holds_output);
}

TEST(MemoryEstimate, FlashAttentionAndQuantizedCache) {
  const auto fa = cpu_estimate(TinyArch::kLlamaGqa, settings(4096, true));
  EXPECT_EQ(fa.devices[0].kv_bytes, 4194304u);
  expect_compute_within(fa.devices[0].compute_bytes, 6567936u);
  const auto q8 = cpu_estimate(TinyArch::kLlamaGqa, settings(4096, true, kQ8_0));
  EXPECT_EQ(q8.devices[0].kv_bytes, 2228224u);  // 34 bytes per 32 values
  const auto q4 = cpu_estimate(TinyArch::kLlamaGqa, settings(8192, true, kQ4_0));
  EXPECT_EQ(q4.devices[0].kv_bytes, 2359296u);
  expect_compute_within(q4.devices[0].compute_bytes, 10762240u);
}

TEST(MemoryEstimate, SlidingWindowCacheUsesWindowPlusMicroBatch) {
  const auto e = cpu_estimate(TinyArch::kGemma2Swa, settings(4096, false));
  EXPECT_EQ(e.kv_cells_full, 4096u);
  EXPECT_EQ(e.kv_cells_swa, 768u);  // PAD(128 + 512, 256)
  EXPECT_EQ(e.devices[0].kv_bytes, 2490368u);
  EXPECT_EQ(e.devices[0].weights_bytes, 1262080u);  // tied output: no second copy on the CPU
  expect_compute_within(e.devices[0].compute_bytes, 45365248u);
  // A small context caps the window cache at the context.
  const auto small = cpu_estimate(TinyArch::kGemma2Swa, settings(512, true));
  EXPECT_EQ(small.kv_cells_swa, 512u);
  EXPECT_EQ(small.devices[0].kv_bytes, 524288u);
  expect_compute_within(small.devices[0].compute_bytes, 3430400u);
}

TEST(MemoryEstimate, ParallelSequencesGetTheirOwnStreams) {
  const auto e = cpu_estimate(TinyArch::kLlamaGqa, settings(2048, true, kF16, 2));
  EXPECT_EQ(e.n_stream, 2u);
  EXPECT_EQ(e.n_ctx_seq, 2048u);
  EXPECT_EQ(e.n_ctx, 4096u);
  EXPECT_EQ(e.devices[0].kv_bytes, 4194304u);
  expect_compute_within(e.devices[0].compute_bytes, 4470784u);
  EXPECT_EQ(e.devices[0].output_bytes, 2u * 288u * 4u);
}

TEST(MemoryEstimate, ContextBelowMicroBatchShrinksTheGraph) {
  const auto e = cpu_estimate(TinyArch::kLlamaGqa, settings(300, false));
  EXPECT_EQ(e.kv_cells_full, 512u);
  EXPECT_EQ(e.n_ubatch, 300u);
  expect_compute_within(e.devices[0].compute_bytes, 3999648u);
}

TEST(MemoryEstimate, MoeWeightsAndExpertsOnCpu) {
  const auto e = cpu_estimate(TinyArch::kQwen3Moe, settings(1024, true));
  EXPECT_EQ(e.devices[0].weights_bytes, 2135552u);
  expect_compute_within(e.devices[0].compute_bytes, 2635776u);

  Placement p;
  p.n_gpus = 1;
  p.n_gpu_layers = 5;  // 4 layers + output
  p.n_cpu_moe = 2;
  auto info = tiny_model_info(TinyArch::kQwen3Moe);
  auto g = estimate_memory_requirements(info, settings(1024, true), p);
  ASSERT_TRUE(g.ok());
  uint64_t experts_01 = 0;
  for (const auto& t : info.tensors) {
    if ((t.layer == 0 || t.layer == 1) && t.name.find("_exps") != std::string::npos) {
      experts_01 += t.size_bytes;
    }
  }
  ASSERT_GT(experts_01, 0u);
  const uint64_t embd = 128 * 288 * 2;
  EXPECT_EQ(g->devices[0].weights_bytes, embd + experts_01);
  EXPECT_EQ(g->devices[0].weights_bytes + g->devices[1].weights_bytes, 2135552u);
  EXPECT_EQ(g->devices[1].kv_bytes, 1048576u);
  EXPECT_EQ(g->devices[0].kv_bytes, 0u);
  EXPECT_EQ(g->devices[1].overhead_bytes, GpuTraits{}.overhead_bytes);
}

TEST(MemoryEstimate, TiedOutputIsDuplicatedOnTheGpu) {
  auto info = tiny_model_info(TinyArch::kGemma2Swa);
  Placement p;
  p.n_gpus = 1;
  p.n_gpu_layers = 5;
  auto e = estimate_memory_requirements(info, settings(1024, true), p);
  ASSERT_TRUE(e.ok());
  const uint64_t embd = 128 * 288 * 2;
  EXPECT_EQ(e->devices[0].weights_bytes, embd);      // input layer stays on the CPU
  EXPECT_EQ(e->devices[1].weights_bytes, 1262080u);  // everything else + a second token_embd
  EXPECT_TRUE(e->devices[1].holds_output);
  // -ngl 4: llama.cpp offloads the output first (i_gpu_start = 5 - 4), so
  // layer 0 stays on the CPU and the duplicate is still made.
  p.n_gpu_layers = 4;
  auto f = estimate_memory_requirements(info, settings(1024, true), p);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->output_device, 1);
  EXPECT_EQ(f->layer_device[0], 0);
  EXPECT_EQ(f->devices[0].weights_bytes + f->devices[1].weights_bytes, 1262080u + embd);
}

TEST(MemoryEstimate, QuantizedValueCacheNeedsFlashAttention) {
  auto e = estimate_memory_requirements(tiny_model_info(TinyArch::kLlamaGqa),
                                        settings(1024, false, kQ8_0), Placement{});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("flash attention"), std::string::npos);
}

TEST(MemoryEstimate, RejectsNonsense) {
  gguf::ModelInfo empty;
  EXPECT_FALSE(estimate_memory_requirements(empty, settings(1024, true), Placement{}).ok());
  auto info = tiny_model_info(TinyArch::kLlamaGqa);
  EXPECT_FALSE(estimate_memory_requirements(info, settings(0, true), Placement{}).ok());
  info.tensors[3].layer = 99;  // beyond block_count
  auto e = estimate_memory_requirements(info, settings(1024, true), Placement{});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("block_count"), std::string::npos);
}

TEST(AssignLayerDevices, FollowsLlamaCppSplitRule) {
  Placement p;
  p.n_gpus = 2;
  p.n_gpu_layers = 33;
  p.tensor_split = {1, 1};
  auto d = assign_layer_devices(32, p);
  ASSERT_EQ(d.size(), 33u);
  EXPECT_EQ(std::count(d.begin(), d.end(), 1), 17);  // il/33 < 0.5 for il <= 16
  EXPECT_EQ(std::count(d.begin(), d.end(), 2), 16);
  EXPECT_EQ(d[32], 2);  // output on the last GPU
  p.n_gpus = 1;
  p.n_gpu_layers = 10;
  p.tensor_split.clear();
  d = assign_layer_devices(32, p);
  EXPECT_EQ(std::count(d.begin(), d.end(), 0), 23);  // layers 0..22 stay on the CPU
  EXPECT_EQ(d[23], 1);
}

TEST(MemoryEstimate, CudaPadsQuantizedRows) {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 1;
  spec.n_embd = 4000;  // 4000 % 512 = 416: one row of 96 more elements, 3 Q4_0 blocks
  spec.n_head = 40;
  spec.n_head_kv = 8;
  spec.n_ff = 512;
  spec.n_vocab = 1000;
  spec.weight_type = kQ4_0;
  auto info = testing::synthetic_model_info(spec);
  auto costs = prepare_model_costs(info, GpuTraits{});
  ASSERT_TRUE(costs.ok());
  uint64_t host = 0, gpu = 0;
  for (const auto& t : info.tensors) {
    if (t.layer != 0) continue;
    host += (t.size_bytes + 31) / 32 * 32;
    uint64_t sz = t.size_bytes;
    if (t.type == kQ4_0 && t.shape[0] % 512 != 0) sz += (512 - t.shape[0] % 512) / 32 * 18;
    gpu += (sz + 127) / 128 * 128;
  }
  EXPECT_EQ(costs->layers[0].weights_host, host);
  EXPECT_EQ(costs->layers[0].weights_gpu, gpu);
  EXPECT_GT(gpu, host);
}

TEST(MemoryEstimate, MlaCachesKeysOnly) {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 2;
  spec.n_vocab = 1024;
  auto info = testing::synthetic_model_info(spec);
  info.head_count_kv.assign(2, 1);
  info.key_length = 576;  // kv_lora_rank 512 + rope 64 (DeepSeek-V3 converter)
  info.value_length = 512;
  info.key_length_mla = 192;
  info.value_length_mla = 128;
  auto e = estimate_memory_requirements(info, settings(4096, true), Placement{});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->devices[0].kv_bytes, 2u * 4096u * 576u * 2u);
}

// DeepSeek-V2-Lite's shape (deepseek2, MLA, 64 routed experts of which 6
// used). The llama.cpp figures are the exact compute buffers of
// `node tests/node/estimate_real_accuracy.mjs --families deepseek-v2-lite`
// (node-llama-cpp 3.21.1, CPU backend, no_alloc dry run; its log printed
// "CPU compute buffer size = 240.26 MiB" for 4096 x 1 with flash attention
// and 1274.27 MiB for 32768 x 4 without).
gguf::ModelInfo deepseek_v2_lite() {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 27;
  spec.n_embd = 2048;
  spec.n_head = 16;
  spec.n_head_kv = 1;
  spec.n_ff = 1408;
  spec.n_expert = 64;
  spec.n_expert_used = 6;
  spec.n_vocab = 102400;
  auto m = testing::synthetic_model_info(spec);
  m.architecture = "deepseek2";
  m.key_length = 576;  // kv_lora_rank 512 + rope 64: the absorbed K head
  m.value_length = 512;
  m.key_length_mla = 192;
  m.value_length_mla = 128;
  m.kv_lora_rank = 512;
  return m;
}

TEST(MemoryEstimate, MlaLogitsSitAboveTheRoutedExperts) {
  // With flash attention the logits set the peak, above the residual that
  // ggml-alloc placed over the 6 experts' down projections:
  // R = (3 + 6) x 2048 + 3 x 64 floats, + E + 102400 logits + 8, per token.
  const auto e = estimate_memory_requirements(deepseek_v2_lite(), settings(4096, true), Placement{});
  ASSERT_TRUE(e.ok()) << e.error().message;
  const uint64_t per_token = (9 * 2048 + 192) + 2048 + 102400 + 8;
  EXPECT_EQ(e->devices[0].compute_bytes, 512u * 4u * per_token);
  EXPECT_GE(e->devices[0].compute_bytes, 251934720u);  // llama.cpp: 240.26 MiB
  EXPECT_LE(e->devices[0].compute_bytes, 251934720u * 1.10);
}

TEST(MemoryEstimate, MlaWithoutFlashAttentionCopiesEveryStreamsLatentV) {
  // Without flash attention build_attn_mha copies V (the 512-wide latent
  // view of the K cache) transposed: 512 x 32768 cells x 4 streams x 2 B,
  // beside the f32 KQ scores (16 heads x 32768 cells) and the f32 mask.
  const auto four = estimate_memory_requirements(deepseek_v2_lite(), settings(32768, false, kF16, 4),
                                                 Placement{});
  const auto one = estimate_memory_requirements(deepseek_v2_lite(), settings(32768, false, kF16, 1),
                                                Placement{});
  ASSERT_TRUE(four.ok() && one.ok());
  EXPECT_EQ(four->devices[0].compute_bytes - one->devices[0].compute_bytes,
            3ull * 512 * 32768 * 2);
  EXPECT_GE(four->devices[0].compute_bytes, 1336170496u);  // llama.cpp: 1274.27 MiB
  EXPECT_LE(four->devices[0].compute_bytes, 1336170496u * 1.10);
  EXPECT_GE(one->devices[0].compute_bytes, 1231038464u);  // llama.cpp: 1174.01 MiB
  EXPECT_LE(one->devices[0].compute_bytes, 1231038464u * 1.10);
}

TEST(MemoryEstimate, MaskNarrowerThanEStaysAHoleUnderTheLogits) {
  // Phi-3.5-mini's shape at 4096 with flash attention: the f16 mask (2048
  // values per token) is freed before the last layer's E-wide (3072) copies,
  // which do not fit in it, so the logits start at 4E + 2048. llama.cpp
  // (estimate_real_accuracy.mjs, phi3.5-mini 4096 x 1 f16 fa=on) printed
  // "CPU compute buffer size = 90.64 MiB", exactly 95041536 B.
  testing::SyntheticModelSpec spec;
  spec.n_embd = 3072;
  spec.n_head = 32;
  spec.n_head_kv = 32;
  spec.n_ff = 8192;
  spec.n_vocab = 32064;
  const auto e = estimate_memory_requirements(testing::synthetic_model_info(spec),
                                              settings(4096, true), Placement{});
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->devices[0].compute_bytes, 512u * 4u * (4 * 3072 + 32064 + 8 + 2048));
  EXPECT_GE(e->devices[0].compute_bytes, 95041536u);
}

TEST(MemoryEstimate, RotatedQueryStaysAHoleUnderTheFfn) {
  // Mistral-Small-3.2-24B's shape at 128k, q8_0 K with flash attention: the
  // FFN phase with the 128k f16 mask is the peak, and the Hadamard-rotated Q
  // (n_head x 128) counts in it. llama.cpp printed 366.09 MiB (383875072 B).
  testing::SyntheticModelSpec spec;
  spec.n_layer = 40;
  spec.n_embd = 5120;
  spec.n_ff = 32768;
  spec.n_vocab = 131072;
  auto m = testing::synthetic_model_info(spec);
  m.key_length = m.value_length = 128;
  const auto q8 = estimate_memory_requirements(m, settings(131072, true, kQ8_0), Placement{});
  const auto f16 = estimate_memory_requirements(m, settings(131072, true, kF16), Placement{});
  ASSERT_TRUE(q8.ok() && f16.ok());
  // The rotated Q raises the FFN phase past the replayed layers' peak (which
  // sets the f16 figure: llama.cpp printed 358.01 MiB, 375404544 B).
  EXPECT_GT(q8->devices[0].compute_bytes, f16->devices[0].compute_bytes);
  EXPECT_GE(f16->devices[0].compute_bytes, 375404544u);
  EXPECT_LE(f16->devices[0].compute_bytes, 375404544u * 1.10);
  EXPECT_GE(q8->devices[0].compute_bytes, 383875072u);
  EXPECT_LE(q8->devices[0].compute_bytes, 383875072u * 1.10);
}

// Qwen3-Next-80B-A3B's shape (qwen3next: 512 experts of 512, 10 used, head
// size 256, vocabulary 151936). Its graph keeps the final hidden state
// (h_nextn) as an output under the logits. The llama.cpp figures are the
// exact compute buffers of `node tests/node/estimate_real_accuracy.mjs
// --families qwen3-next-80b-a3b` (node-llama-cpp 3.21.1, CPU backend,
// no_alloc dry run), whose log printed "CPU compute buffer size = 340.76 MiB"
// (357316640 B) for 32768 x 1 f16 with flash attention, 341.03 MiB
// (357595168 B) with a q8_0 cache and 308.75 MiB (323749888 B) at 131072.
gguf::ModelInfo qwen3_next() {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 48;
  spec.n_embd = 2048;
  spec.n_head = 16;
  spec.n_head_kv = 2;
  spec.n_ff = 512;
  spec.n_expert = 512;
  spec.n_expert_used = 10;
  spec.n_vocab = 151936;
  spec.n_ctx_train = 262144;
  auto m = testing::synthetic_model_info(spec);
  m.architecture = "qwen3next";
  m.key_length = m.value_length = 256;
  return m;
}

TEST(MemoryEstimate, KeptHiddenStateSitsAboveTheMaskUnderTheLogits) {
  // At 32k the f16 mask (16384 values per token, 8 E) cannot hold the last
  // FFN (E + 3 x 10 x 512 + 3 x 512 = 19,968 values), so the last attention
  // output and the final hidden state land above it and the logits start at
  // inp_embd + mask + 2 E = 11 E (ggml-alloc trace of the 32k row).
  const auto f16 = estimate_memory_requirements(qwen3_next(), settings(32768, true), Placement{});
  const auto q8 = estimate_memory_requirements(qwen3_next(), settings(32768, true, kQ8_0), Placement{});
  ASSERT_TRUE(f16.ok() && q8.ok());
  EXPECT_EQ(f16->devices[0].compute_bytes, 512ull * 4 * (3 * 2048 + 16384 + 151936 + 8));
  EXPECT_GE(f16->devices[0].compute_bytes, 357316640u);  // llama.cpp: 340.76 MiB
  EXPECT_LE(f16->devices[0].compute_bytes, 357316640u * 1.10);
  // A q8_0 cache adds the Hadamard inputs below the mask: 256 x 256 (K) and
  // 64 x 64 (V) f32.
  EXPECT_EQ(q8->devices[0].compute_bytes - f16->devices[0].compute_bytes, 4ull * (256 * 256 + 64 * 64));
  EXPECT_GE(q8->devices[0].compute_bytes, 357595168u);  // llama.cpp: 341.03 MiB
  EXPECT_LE(q8->devices[0].compute_bytes, 357595168u * 1.10);
}

TEST(MemoryEstimate, KeptHiddenStateStaysInAMaskThatHoldsTheLastFfn) {
  // At 128k the mask (32 E) holds the whole last FFN, the hidden state lands
  // in its freed block and the plain output phase (4 E + a slack of E/2 +
  // E/64 + the logits) is the bound; an architecture without h_nextn
  // (qwen3moe) gets the same figure at 32k, where qwen3next needs the term.
  auto moe = qwen3_next();
  moe.architecture = "qwen3moe";
  const auto next128 = estimate_memory_requirements(qwen3_next(), settings(131072, true), Placement{});
  const auto moe32 = estimate_memory_requirements(moe, settings(32768, true), Placement{});
  ASSERT_TRUE(next128.ok() && moe32.ok());
  const uint64_t plain = 512ull * 4 * (4 * 2048 + 151936 + 8 + 1024 + 32);
  EXPECT_EQ(next128->devices[0].compute_bytes, plain);
  EXPECT_EQ(moe32->devices[0].compute_bytes, plain);
  EXPECT_GE(next128->devices[0].compute_bytes, 323749888u);  // llama.cpp: 308.75 MiB
  EXPECT_LE(next128->devices[0].compute_bytes, 323749888u * 1.10);
}

TEST(MemoryEstimate, KeptHiddenStateTakesTheNarrowerBlockAboveTheDownOutput) {
  // At 96k the 24 E mask holds the last FFN (E + 2 x 512 + 3 x 5120 = 9 E)
  // and the 10 E down output, leaving 5 E above it, narrower than the 8 E
  // freed below: the sum goes above the down output, result_norm above it,
  // and the logits start at 22 E. llama.cpp printed 384.75 MiB (403441664 B)
  // for 98304 x 1 f16 with flash attention.
  const auto e = estimate_memory_requirements(qwen3_next(), settings(98304, true), Placement{});
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->devices[0].compute_bytes, 512ull * 4 * (2048 + 18432 + 20480 + 2 * 2048 + 151936 + 8));
  EXPECT_GE(e->devices[0].compute_bytes, 403441664u);
  EXPECT_LE(e->devices[0].compute_bytes, 403441664u * 1.10);
}

TEST(MemoryEstimate, RoutedDownOutputSitsAboveTheFreedGateAndUp) {
  // At 256k with flash attention the FFN with the 64 E f16 mask is the peak:
  // the routed down output (n_used x E) does not fit in the freed gate + up
  // block and goes above it. llama.cpp printed 342.01 MiB (358627360 B) for
  // qwen3next and 344.01 MiB (360724480 B) for Qwen3-30B-A3B's shape
  // (128 experts of 768, 8 used), 262144 x 1 f16.
  const auto next = estimate_memory_requirements(qwen3_next(), settings(262144, true), Placement{});
  testing::SyntheticModelSpec spec;
  spec.n_layer = 48;
  spec.n_embd = 2048;
  spec.n_head = 32;
  spec.n_head_kv = 4;
  spec.n_ff = 768;
  spec.n_expert = 128;
  spec.n_expert_used = 8;
  spec.n_vocab = 151936;
  spec.n_ctx_train = 262144;
  auto moe_info = testing::synthetic_model_info(spec);
  moe_info.architecture = "qwen3moe";
  moe_info.key_length = moe_info.value_length = 128;
  const auto moe = estimate_memory_requirements(moe_info, settings(262144, true), Placement{});
  ASSERT_TRUE(next.ok() && moe.ok());
  EXPECT_GE(next->devices[0].compute_bytes, 358627360u);
  EXPECT_LE(next->devices[0].compute_bytes, 358627360u * 1.10);
  EXPECT_GE(moe->devices[0].compute_bytes, 360724480u);
  EXPECT_LE(moe->devices[0].compute_bytes, 360724480u * 1.10);
}

TEST(BestFitSim, FollowsGgmlAllocsBestFitAndMerges) {
  BestFitSim a;
  const uint64_t x = a.alloc(10), y = a.alloc(5), z = a.alloc(3), w = a.alloc(4);
  EXPECT_EQ(x, 0u);
  EXPECT_EQ(y, 10u);
  EXPECT_EQ(z, 15u);
  EXPECT_EQ(w, 18u);
  EXPECT_EQ(a.peak(), 22u);
  a.free(x, 10);  // [0, 10)
  a.free(z, 3);   // [15, 18)
  // The smallest block that fits, not the first one.
  EXPECT_EQ(a.alloc(3), 15u);
  // Nothing but the open end fits 11: the buffer grows.
  EXPECT_EQ(a.alloc(11), 22u);
  EXPECT_EQ(a.peak(), 33u);
  // Equal sizes: the later block wins (ggml-alloc's <=).
  BestFitSim b;
  const uint64_t p = b.alloc(4), q = b.alloc(1), r = b.alloc(4);
  b.alloc(1);
  b.free(p, 4);
  b.free(r, 4);
  EXPECT_EQ(b.alloc(4), r);
  // A freed block between two free ones merges both: 0..9 is one block again.
  b.free(q, 1);
  b.free(r, 4);
  EXPECT_EQ(b.alloc(9), 0u);
  EXPECT_EQ(b.peak(), 10u);
}

TEST(MemoryEstimate, SharedExpertSumTakesTheFreedActivationAboveTheMask) {
  // GLM-4.5-Air's shape (glm4moe: 46 x 4096, 96 heads of 128, 128 experts of
  // 1408 with 8 used, a shared expert of 1408, a router bias) at 65536 x 1,
  // f16, flash attention: the 8 E f16 mask holds the normed input, gate and
  // up but not the activation, which goes above the FFN input (11 E); the
  // routed down output (8 E) goes above it; the routed sum (E) takes the
  // activation's freed 2.75 E block, the best fit, and the logits start
  // above it at 12 E (ggml-alloc trace; the hand-placed output phase put
  // them at 4.5 E, 15 % under). llama.cpp printed 392.01 MiB (411056128 B).
  testing::SyntheticModelSpec spec;
  spec.n_layer = 46;
  spec.n_embd = 4096;
  spec.n_head = 96;
  spec.n_head_kv = 8;
  spec.n_ff = 1408;
  spec.n_expert = 128;
  spec.n_expert_used = 8;
  spec.n_vocab = 151552;
  auto m = testing::synthetic_model_info(spec);
  m.architecture = "glm4moe";
  m.key_length = m.value_length = 128;
  for (int il = 0; il < 46; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    for (const char *n : {"ffn_gate_shexp", "ffn_up_shexp"}) {
      m.tensors.push_back({blk + n + ".weight", {4096, 1408}, 1, 0, 4096ull * 1408 * 2, il, 0});
    }
    m.tensors.push_back({blk + "ffn_down_shexp.weight", {1408, 4096}, 1, 0, 4096ull * 1408 * 2, il, 0});
    m.tensors.push_back({blk + "exp_probs_b.bias", {128}, 0, 0, 512, il, 0});
  }
  const auto e = estimate_memory_requirements(m, settings(65536, true), Placement{});
  ASSERT_TRUE(e.ok()) << e.error().message;
  // Logits at 12 E + the small inputs (positions, KV indices, output ids:
  // 6 values per token), + the logits' 8, + the slack of E/2 + E/64.
  EXPECT_EQ(e->devices[0].compute_bytes, 512ull * 4 * (12 * 4096 + 6 + 151552 + 8 + 2048 + 64));
  EXPECT_GE(e->devices[0].compute_bytes, 411056128u);
  EXPECT_LE(e->devices[0].compute_bytes, 411056128u * 1.10);
}

TEST(MemoryEstimate, EncoderWithLearnedPositionsPeaksInItsFfn) {
  // bge-m3's shape (bert, 24 x 1024, GELU MLP of 4096, learned positions):
  // no RoPE copies in attention, so the FFN (3E + F + the f16 512 x 512
  // mask) is the peak. llama.cpp (estimate_real_accuracy.mjs, bge-m3 512 x 1
  // f16 fa=on) printed "CPU compute buffer size = 14.51 MiB" (15210528 B).
  testing::SyntheticModelSpec spec;
  spec.n_layer = 24;
  spec.n_embd = 1024;
  spec.n_head = 16;
  spec.n_head_kv = 16;
  spec.n_ff = 4096;
  spec.n_vocab = 250002;
  auto m = testing::synthetic_model_info(spec);
  m.architecture = "bert";
  m.causal = false;
  std::erase_if(m.tensors, [](const gguf::TensorInfo& t) {
    return t.name.find(".ffn_gate.") != std::string::npos;
  });
  gguf::TensorInfo pos;
  pos.name = "position_embd.weight";
  pos.shape = {1024, 8194};
  pos.size_bytes = 1024ull * 8194 * 4;
  m.tensors.push_back(pos);
  const auto e = estimate_memory_requirements(m, settings(512, true), Placement{});
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->devices[0].compute_bytes, 512u * (4u * (3 * 1024 + 4096 + 8) + 512u * 2u));
  EXPECT_GE(e->devices[0].compute_bytes, 15210528u);
  EXPECT_LE(e->devices[0].compute_bytes, 15210528u * 1.10);
}

TEST(MemoryEstimate, RecurrentStateIgnoresContext) {
  testing::SyntheticModelSpec spec;
  spec.n_layer = 2;
  spec.n_vocab = 1024;
  auto info = testing::synthetic_model_info(spec);
  info.recurrent_layers = {true, false};
  info.ssm_conv_kernel = 4;
  info.ssm_inner_size = 8192;
  info.ssm_state_size = 16;
  info.ssm_group_count = 1;
  auto a = estimate_memory_requirements(info, settings(1024, true, kF16, 2), Placement{});
  auto b = estimate_memory_requirements(info, settings(8192, true, kF16, 2), Placement{});
  ASSERT_TRUE(a.ok() && b.ok());
  const uint64_t state = ((4 - 1) * (8192 + 2 * 16) + 16 * 8192) * 4 * 2;
  EXPECT_EQ(a->devices[0].recurrent_bytes, state);
  EXPECT_EQ(b->devices[0].recurrent_bytes, state);
  // Only layer 1 has a KV cache: 1024 x 2 cells x 1024 x 2 widths x 2 B.
  EXPECT_EQ(a->devices[0].kv_bytes, 2048u * 1024u * 2u * 2u);
}

TEST(MemoryEstimate, UnifiedCacheIsOneStream) {
  auto s = settings(1024, true, kF16, 4);
  s.kv_unified = true;
  const auto e = cpu_estimate(TinyArch::kGemma2Swa, s);
  EXPECT_EQ(e.n_stream, 1u);
  EXPECT_EQ(e.kv_cells_full, 4096u);
  EXPECT_EQ(e.kv_cells_swa, 1024u);  // PAD(128 x 4 sequences + 512, 256)
  // 2 full layers x 4096 + 2 window layers x 1024 cells, (64 + 64) x 2 B each.
  EXPECT_EQ(e.devices[0].kv_bytes, (2u * 4096u + 2u * 1024u) * 256u);
}

TEST(MemoryEstimate, PipelineParallelCopiesOnSeveralGpus) {
  const auto info = tiny_model_info(TinyArch::kLlamaGqa);
  Placement one;
  one.n_gpus = 1;
  one.n_gpu_layers = 5;
  Placement two = one;
  two.n_gpus = 2;
  auto a = estimate_memory_requirements(info, settings(1024, true), one);
  auto b = estimate_memory_requirements(info, settings(1024, true), two);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->devices[1].compute_bytes, a->devices[1].compute_bytes + 3u * 512u * 128u * 4u);
  EXPECT_EQ(b->devices[2].compute_bytes, a->devices[1].compute_bytes + 3u * 512u * 128u * 4u);
}

TEST(MemoryEstimate, NonCausalModelsReserveTheWholeContext) {
  auto info = tiny_model_info(TinyArch::kLlamaGqa);
  info.causal = false;
  auto e = estimate_memory_requirements(info, settings(4096, true), Placement{});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->n_ubatch, 4096u);
  const auto causal = cpu_estimate(TinyArch::kLlamaGqa, settings(4096, true));
  EXPECT_EQ(causal.n_ubatch, 512u);
  EXPECT_GT(e->devices[0].compute_bytes, 7 * causal.devices[0].compute_bytes);
}

TEST(MemoryEstimate, CorruptDimensionsAreRejected) {
  auto info = tiny_model_info(TinyArch::kLlamaGqa);
  info.head_count_kv[2] = 4000000000u;
  auto e = estimate_memory_requirements(info, settings(1024, true), Placement{});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("head_count_kv"), std::string::npos);
  info = tiny_model_info(TinyArch::kLlamaGqa);
  EXPECT_FALSE(
      estimate_memory_requirements(info, settings(uint64_t{1} << 31, true, kF16, 4), Placement{})
          .ok());
}

}  // namespace
}  // namespace memopt::estimate

namespace memopt::estimate {
namespace {

TEST(MemoryEstimate, CheckedArchitecturesAreSortedAndLookedUp) {
  const auto& c = checked_architectures();
  EXPECT_TRUE(std::is_sorted(c.begin(), c.end()));
  EXPECT_EQ(c.size(), 19u);
  EXPECT_TRUE(architecture_checked("qwen3next"));
  EXPECT_TRUE(architecture_checked("bert"));
  EXPECT_FALSE(architecture_checked("qwen2moe"));  // only a tiny unit-test model, never run
  EXPECT_FALSE(architecture_checked("rwkv7"));
  EXPECT_FALSE(architecture_checked(""));
}

// Real-size rules found by the accuracy grid (docs/estimate-accuracy.md).
TEST(MemoryEstimate, TiedQ4KOutputIsASecondCopyOnTheHost) {
  testing::SyntheticModelSpec spec;
  spec.tied_output = true;
  spec.weight_type = 12;  // Q4_K: the CPU backend repacks the output matrix
  const auto m = testing::synthetic_model_info(spec);
  auto costs = prepare_model_costs(m, GpuTraits{});
  ASSERT_TRUE(costs.ok());
  EXPECT_EQ(costs->tied_output_host_repack, costs->token_embd_host);
  spec.weight_type = 14;  // Q6_K is not repacked on x86: no second copy
  auto q6 = prepare_model_costs(testing::synthetic_model_info(spec), GpuTraits{});
  ASSERT_TRUE(q6.ok());
  EXPECT_EQ(q6->tied_output_host_repack, 0u);
  auto e = estimate_memory_requirements(*costs, RunSettings{}, Placement{}, GpuTraits{});
  ASSERT_TRUE(e.ok());
  uint64_t layers = 0;
  for (const auto& L : costs->layers) layers += L.weights_host;
  EXPECT_EQ(e->devices[0].weights_bytes,
            layers + 2 * costs->token_embd_host + costs->output_host + costs->other_host);
}

TEST(MemoryEstimate, EncodersHaveNoKvAndNoLogitsPhase) {
  testing::SyntheticModelSpec spec;
  auto m = testing::synthetic_model_info(spec);
  m.architecture = "bert";
  m.causal = false;
  auto e = estimate_memory_requirements(m, settings(2048, true), Placement{});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->devices[0].kv_bytes, 0u);
  EXPECT_EQ(e->kv_cells_full, 0u);
  // The graph spans the whole 2048-token input and ends in pooling: far below
  // 2048 tokens x a 128k-entry logits row.
  EXPECT_EQ(e->n_ubatch, 2048u);
  EXPECT_LT(e->devices[0].compute_bytes, 2048ull * 128256 * 4);
}

TEST(MemoryEstimate, FlashAttentionMaskDoesNotGrowTheLogitsPeak) {
  // Llama-3.1-8B shape: with flash attention the logits (128k vocabulary) set
  // the peak and the f16 mask is freed before them, so 4k and 128k contexts
  // need the same compute buffer (llama.cpp: 266.5 and 274.5 MiB).
  const auto m = testing::synthetic_model_info(testing::SyntheticModelSpec{});
  const auto small = estimate_memory_requirements(m, settings(4096, true), Placement{});
  const auto large = estimate_memory_requirements(m, settings(131072, true), Placement{});
  ASSERT_TRUE(small.ok() && large.ok());
  EXPECT_EQ(small->devices[0].compute_bytes, large->devices[0].compute_bytes);
  EXPECT_GE(large->devices[0].compute_bytes, 274.5 * 1048576);
  EXPECT_LE(large->devices[0].compute_bytes, 274.5 * 1048576 * 1.10);
}

}  // namespace
}  // namespace memopt::estimate
