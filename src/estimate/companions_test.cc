// LoRA adapters and projectors sized from their headers. The adapter rules
// are llama.cpp's (src/llama-adapter.cpp); the real llama.cpp loading the
// same kind of adapter is tests/node/estimate_companions.mjs.
#include "estimate/companions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/gguf_writer.h"
#include "support/tiny_models.h"

namespace memopt::estimate {
namespace {

using memopt::testing::GgufWriter;
using memopt::testing::TensorFill;
using memopt::testing::tiny_model_info;
using memopt::testing::TinyArch;
using ::testing::HasSubstr;

constexpr uint32_t kF32 = 0, kF16 = 1, kQ8_0 = 8;

gguf::GgufFile parse(const GgufWriter &w, const std::string &name) {
  auto f = gguf::parse_gguf(w.build(), name);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return f.ok() ? *f : gguf::GgufFile{};
}

// A rank-r LoRA on attn_q (128 x 128) and attn_v (128 x 64) of every layer of
// the tiny llama, and on its output (128 x vocab).
GgufWriter lora(uint32_t rank, uint32_t type, const std::string &arch = "llama") {
  GgufWriter w;
  w.kv_str("general.architecture", arch)
      .kv_str("general.type", "adapter")
      .kv_str("adapter.type", "lora")
      .kv_f32("adapter.lora.alpha", 32.0f);
  for (int il = 0; il < 4; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    w.tensor(b + "attn_q.weight.lora_a", {128, rank}, type, TensorFill::kZero);
    w.tensor(b + "attn_q.weight.lora_b", {rank, 128}, type, TensorFill::kZero);
    w.tensor(b + "attn_v.weight.lora_a", {128, rank}, type, TensorFill::kZero);
    w.tensor(b + "attn_v.weight.lora_b", {rank, 64}, type, TensorFill::kZero);
  }
  return w;
}

TEST(AdapterWeights, SizesEachPairWithItsLayer) {
  const auto base = tiny_model_info(TinyArch::kLlamaGqa);
  auto a = adapter_weights(parse(lora(8, kF32), "a.gguf"), base, GpuTraits{});
  ASSERT_TRUE(a.ok()) << a.error().message;
  // Per layer: q pair 128x8 + 8x128, v pair 128x8 + 8x64, f32.
  const uint64_t layer = (128 * 8 + 8 * 128 + 128 * 8 + 8 * 64) * 4;
  EXPECT_EQ(layer, 14336u);
  EXPECT_EQ(a->tensor_count, 16u);
  EXPECT_EQ(a->bytes, 4 * layer);
  EXPECT_DOUBLE_EQ(a->alpha, 32.0);
  ASSERT_EQ(a->layer_host.size(), 4u);
  for (int il = 0; il < 4; ++il) {
    EXPECT_EQ(a->layer_host[il], layer);  // every tensor a multiple of 32 bytes
    EXPECT_EQ(a->layer_gpu[il], layer);   // and of 128
  }
  EXPECT_EQ(a->host_bytes(), 4 * layer);
  EXPECT_EQ(a->output_host, 0u);
}

TEST(AdapterWeights, PadsLikeEachBackend) {
  // A q8_0 lora_a of 128 x 3: 3 rows of 4 blocks of 34 B = 408 B, 416 in the
  // host buffer (32-aligned); ggml-cuda adds a padded row of 384 elements
  // (12 blocks, 408 B) -> 816, then aligns to 128 -> 896. The f16 lora_b
  // (3 x 128, 768 B) needs no padding on either.
  GgufWriter w;
  w.kv_str("general.architecture", "llama")
      .kv_str("general.type", "adapter")
      .kv_str("adapter.type", "lora")
      .tensor("blk.1.attn_q.weight.lora_a", {128, 3}, kQ8_0, TensorFill::kZero)
      .tensor("blk.1.attn_q.weight.lora_b", {3, 128}, kF16, TensorFill::kZero);
  const auto base = tiny_model_info(TinyArch::kLlamaGqa);
  auto a = adapter_weights(parse(w, "a.gguf"), base, GpuTraits{});
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->bytes, 408u + 768u);
  EXPECT_EQ(a->layer_host[1], 416u + 768u);
  EXPECT_EQ(a->layer_gpu[1], 896u + 768u);
  EXPECT_EQ(a->layer_host[0], 0u);
  EXPECT_EQ(a->alpha, 0.0);  // absent
}

TEST(AdapterWeights, AttachesToTheLayers) {
  const auto base = tiny_model_info(TinyArch::kLlamaGqa);
  auto costs = prepare_model_costs(base, GpuTraits{});
  ASSERT_TRUE(costs.ok());
  auto a = adapter_weights(parse(lora(8, kF32), "a.gguf"), base, GpuTraits{});
  ASSERT_TRUE(a.ok());
  ModelCosts with = *costs;
  attach_adapter(with, *a);
  RunSettings s;
  s.ctx_per_seq = 512;
  auto before = estimate_memory_requirements(*costs, s, Placement{}, GpuTraits{});
  auto after = estimate_memory_requirements(with, s, Placement{}, GpuTraits{});
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(after->devices[0].weights_bytes - before->devices[0].weights_bytes, 4 * 14336u);
  // Two layers and the output on one GPU: those layers' pairs go with them.
  Placement p;
  p.n_gpus = 1;
  p.n_gpu_layers = 3;
  auto gb = estimate_memory_requirements(*costs, s, p, GpuTraits{});
  auto ga = estimate_memory_requirements(with, s, p, GpuTraits{});
  ASSERT_TRUE(gb.ok() && ga.ok());
  EXPECT_EQ(ga->devices[1].weights_bytes - gb->devices[1].weights_bytes, 2 * 14336u);
  EXPECT_EQ(ga->devices[0].weights_bytes - gb->devices[0].weights_bytes, 2 * 14336u);
}

TEST(AdapterWeights, RefusesWhatLlamaCppRefuses) {
  const auto base = tiny_model_info(TinyArch::kLlamaGqa);
  auto err = [&](const GgufWriter &w) {
    auto a = adapter_weights(parse(w, "bad.gguf"), base, GpuTraits{});
    return a.ok() ? std::string("accepted") : a.error().message;
  };
  EXPECT_EQ(err(lora(8, kF32, "qwen3")),
            "bad.gguf is a LoRA for 'qwen3' but the model is 'llama'; "
            "llama.cpp refuses it");
  GgufWriter not_adapter;
  not_adapter.kv_str("general.architecture", "llama").kv_str("general.type", "model");
  EXPECT_EQ(err(not_adapter),
            "bad.gguf is not an adapter (general.type is "
            "'model', llama.cpp wants 'adapter')");
  GgufWriter cvec;
  cvec.kv_str("general.architecture", "llama")
      .kv_str("general.type", "adapter")
      .kv_str("adapter.type", "control_vector");
  EXPECT_EQ(err(cvec), "bad.gguf is not a LoRA adapter (adapter.type is 'control_vector')");
  GgufWriter half = lora(8, kF32);
  half.tensor("blk.0.attn_k.weight.lora_a", {128, 8}, kF32, TensorFill::kZero);
  EXPECT_EQ(err(half), "bad.gguf: 'blk.0.attn_k.weight' has a lora_a but no lora_b");
  GgufWriter missing = lora(8, kF32);
  missing.tensor("blk.9.attn_q.weight.lora_a", {128, 8}, kF32, TensorFill::kZero)
      .tensor("blk.9.attn_q.weight.lora_b", {8, 128}, kF32, TensorFill::kZero);
  EXPECT_THAT(err(missing), HasSubstr("the model has no tensor 'blk.9.attn_q.weight'"));
  GgufWriter shape;
  shape.kv_str("general.architecture", "llama")
      .kv_str("general.type", "adapter")
      .kv_str("adapter.type", "lora")
      .tensor("blk.0.attn_q.weight.lora_a", {64, 8}, kF32, TensorFill::kZero)
      .tensor("blk.0.attn_q.weight.lora_b", {8, 128}, kF32, TensorFill::kZero);
  EXPECT_EQ(err(shape),
            "bad.gguf: 'blk.0.attn_q.weight' has lora_a [64, 8] "
            "and lora_b [8, 128], which do "
            "not fit the model's [128, 128] (another base model?)");
  GgufWriter stray = lora(8, kF32);
  stray.tensor("blk.0.attn_q.weight", {128, 128}, kF32, TensorFill::kZero);
  EXPECT_EQ(err(stray),
            "bad.gguf: tensor 'blk.0.attn_q.weight' is neither a "
            "lora_a nor a lora_b");
  GgufWriter empty;
  empty.kv_str("general.architecture", "llama")
      .kv_str("general.type", "adapter")
      .kv_str("adapter.type", "lora");
  EXPECT_EQ(err(empty), "bad.gguf: the adapter holds no tensors");
}

// A small ViT projector: 224 px images, 14 px patches -> 256 patches + class.
GgufWriter projector(uint32_t image = 224) {
  GgufWriter w;
  w.kv_str("general.architecture", "clip")
      .kv_str("clip.projector_type", "mlp")
      .kv_bool("clip.has_vision_encoder", true)
      .kv_u32("clip.vision.image_size", image)
      .kv_u32("clip.vision.patch_size", 14)
      .kv_u32("clip.vision.embedding_length", 64)
      .kv_u32("clip.vision.feed_forward_length", 256)
      .kv_u32("clip.vision.attention.head_count", 4)
      .kv_u32("clip.vision.block_count", 1)
      .tensor("v.patch_embd.weight", {14, 14, 3, 64}, kF16, TensorFill::kZero)
      .tensor("v.blk.0.attn_q.weight", {64, 64}, kQ8_0, TensorFill::kZero)
      .tensor("v.blk.0.ffn_up.weight", {64, 256}, kF16, TensorFill::kZero)
      .tensor("mm.0.weight", {64, 128}, kF32, TensorFill::kZero);
  return w;
}

TEST(ProjectorCosts, WeightsFromTheTensorsComputeLabelled) {
  auto p = projector_costs(parse(projector(), "mm.gguf"), GpuTraits{});
  ASSERT_TRUE(p.ok()) << p.error().message;
  // 14*14*3*64*2 = 75264; q8_0 64x64: 2 blocks of 34 B per row -> 4352, which
  // ggml-cuda pads by one row of 448 elements (14 blocks, 476 B) -> 4828, then
  // 128-aligned -> 4864; 64*256*2 = 32768; 64*128*4 = 32768.
  EXPECT_EQ(p->weights_host, 75264u + 4352u + 32768u + 32768u);
  EXPECT_EQ(p->weights_gpu, 75264u + 4864u + 32768u + 32768u);
  EXPECT_EQ(p->positions, 257u);
  // 4 B x (2 x 4 heads x 257^2 + 4 x 257 x 256 + 3 x 224^2)
  EXPECT_EQ(p->compute_bytes, 4u * (2 * 4 * 257 * 257 + 4 * 257 * 256 + 3 * 224 * 224));
  EXPECT_FALSE(p->compute_checked);
  EXPECT_EQ(p->projector_type, "mlp");
}

TEST(ProjectorCosts, RefusesWhatItCannotSize) {
  GgufWriter none;
  none.kv_str("general.architecture", "clip");
  auto a = projector_costs(parse(none, "mm.gguf"), GpuTraits{});
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.error().message, HasSubstr("not a projector llama.cpp loads"));
  auto huge = projector_costs(parse(projector(1u << 30), "mm.gguf"), GpuTraits{});
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().message,
            "mm.gguf: clip.vision.image_size is 1073741824, outside 1..16384");
}

}  // namespace
}  // namespace memopt::estimate
