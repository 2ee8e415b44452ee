// get_model_info on writer-made models: every field checked against values
// worked out by hand from the tensor shapes the writer was given.
#include "support/temp_dir.h"
#include "gguf/model_info.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "gguf/reader.h"
#include "support/gguf_models.h"
#include "support/gguf_writer.h"
#include "support/tiny_models.h"

namespace memopt::gguf {
namespace {

using ::testing::ElementsAre;
using testing::GgufValue;
using testing::GgufWriter;
using ::testing::HasSubstr;

using testing::TempDir;

Result<ModelInfo> info_of(const GgufWriter& w) {
  auto f = parse_gguf(w.build(), "m.gguf");
  if (!f) return f.error();
  std::vector<GgufFile> parts;
  parts.push_back(std::move(*f));
  return model_info_from_files(parts);
}

TEST(ModelInfo, LlamaWithGqa) {
  TempDir dir;
  const std::string path = dir.file("llama.gguf");
  auto w = testing::tiny_model(testing::tiny_llama_gqa());
  ASSERT_TRUE(w.write_file(path).ok());
  auto r = get_model_info(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const ModelInfo& m = *r;
  EXPECT_EQ(m.path, path);
  EXPECT_THAT(m.parts, ElementsAre(path));
  EXPECT_EQ(m.gguf_version, 3u);
  EXPECT_EQ(m.architecture, "llama");
  EXPECT_EQ(m.name, "tiny-llama");
  EXPECT_FALSE(m.is_projector);
  EXPECT_EQ(m.file_type, 1u);
  EXPECT_EQ(m.file_type_name, "F16");
  EXPECT_EQ(m.file_bytes, w.file_bytes());
  EXPECT_EQ(m.context_length, 512u);
  EXPECT_EQ(m.embedding_length, 64u);
  EXPECT_EQ(m.block_count, 2u);
  EXPECT_THAT(m.feed_forward_length, ElementsAre(128, 128));
  EXPECT_THAT(m.head_count, ElementsAre(4, 4));
  EXPECT_THAT(m.head_count_kv, ElementsAre(2, 2));
  EXPECT_EQ(m.key_length, 16u);  // 64 / 4
  EXPECT_EQ(m.value_length, 16u);
  EXPECT_EQ(m.vocab_size, testing::kTinyVocab);
  EXPECT_EQ(m.sliding_window, 0u);
  EXPECT_THAT(m.swa_layers, ElementsAre(false, false));
  EXPECT_THAT(m.recurrent_layers, ElementsAre(false, false));
  EXPECT_TRUE(m.causal);
  // Per layer: norms 2 x 64 f32, q/o 64x64, k/v 64x32, gate/up/down 64x128, f16.
  const uint64_t layer_params = 2 * 64 + 2 * 4096 + 2 * 2048 + 3 * 8192;
  EXPECT_EQ(m.parameter_count, 2 * 64 * 288 + 64 + 2 * layer_params);
  EXPECT_THAT(m.layer_weight_bytes, ElementsAre(74240, 74240));
  EXPECT_THAT(m.layer_expert_bytes, ElementsAre(0, 0));
  EXPECT_EQ(m.token_embd_bytes, 36864u);
  EXPECT_EQ(m.output_bytes, 36864u);
  EXPECT_TRUE(m.has_output_tensor);
  EXPECT_EQ(m.output_norm_bytes, 256u);
  EXPECT_EQ(m.other_nonlayer_bytes, 0u);
  EXPECT_EQ(m.weight_bytes, 222464u);
  EXPECT_EQ(m.bytes_per_type.size(), 2u);
  EXPECT_EQ(m.bytes_per_type.at("f16"), 221184u);
  EXPECT_EQ(m.bytes_per_type.at("f32"), 1280u);
  ASSERT_EQ(m.tensors.size(), 21u);
  EXPECT_EQ(m.tensors[3].name, "blk.0.attn_norm.weight");
  EXPECT_EQ(m.tensors[3].layer, 0);
  EXPECT_EQ(m.tensors[3].offset, w.data_offset() + w.tensor_offset(3));
}

TEST(ModelInfo, GemmaSlidingWindowFromArchitectureDefault) {
  auto r = info_of(testing::tiny_model(testing::tiny_gemma_swa()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->architecture, "gemma3");
  EXPECT_EQ(r->sliding_window, 128u);
  // gemma3: period 6, the last layer of each period is global.
  EXPECT_THAT(r->swa_layers, ElementsAre(true, true, true, true, true, false));
  EXPECT_EQ(r->swa_pattern_source, "architecture default");
  EXPECT_THAT(r->head_count_kv, ElementsAre(1, 1, 1, 1, 1, 1));
  EXPECT_FALSE(r->has_output_tensor);  // tied to token_embd
  EXPECT_EQ(r->output_bytes, 0u);
  EXPECT_EQ(r->token_embd_bytes, 64u * 288 * 2);
}

TEST(ModelInfo, SlidingWindowPatternFromMetadataAndGemma2Defaults) {
  auto spec = testing::tiny_gemma_swa();
  spec.n_layer = 4;
  auto w = testing::tiny_model(spec);
  w.kv("gemma3.attention.sliding_window_pattern",
       GgufValue::array_bool({true, false, false, true}));
  auto r = info_of(w);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(r->swa_layers, ElementsAre(true, false, false, true));
  EXPECT_EQ(r->swa_pattern_source, "metadata");

  auto g2 = testing::tiny_gemma_swa();
  g2.arch = "gemma2";
  g2.n_layer = 4;
  g2.sliding_window = 0;  // key absent: gemma2's loader defaults to 4096
  auto r2 = info_of(testing::tiny_model(g2));
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(r2->sliding_window, 4096u);
  EXPECT_THAT(r2->swa_layers, ElementsAre(true, false, true, false));

  auto w3 = testing::tiny_model(spec);
  w3.kv_u32("gemma3.attention.sliding_window_pattern", 2);
  auto r3 = info_of(w3);
  ASSERT_TRUE(r3.ok());
  EXPECT_THAT(r3->swa_layers, ElementsAre(true, false, true, false));

  // An architecture without a window in llama.cpp: reported, but no SWA layer.
  auto l = testing::tiny_llama_gqa();
  l.sliding_window = 4096;
  auto r4 = info_of(testing::tiny_model(l));
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->sliding_window, 4096u);
  EXPECT_THAT(r4->swa_layers, ElementsAre(false, false));
  EXPECT_EQ(r4->swa_pattern_source, "");
}

TEST(ModelInfo, QwenMoeExpertBytes) {
  auto r = info_of(testing::tiny_model(testing::tiny_qwen_moe()));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->architecture, "qwen2moe");
  EXPECT_EQ(r->expert_count, 4u);
  EXPECT_EQ(r->expert_used_count, 2u);
  EXPECT_EQ(r->expert_feed_forward_length, 32u);
  // gate/up/down exps: 64 x 32 x 4 f16 each.
  EXPECT_THAT(r->layer_expert_bytes, ElementsAre(49152, 49152, 49152));
  // + attention (4 x 64x64 f16), norms, router 64x4 f32, shared-expert gate 64 f32, 3 x 64x64 f16.
  const uint64_t layer = 49152 + 4 * 8192 + 2 * 256 + 1024 + 256 + 3 * 8192;
  EXPECT_THAT(r->layer_weight_bytes, ElementsAre(layer, layer, layer));
}

TEST(ModelInfo, PerLayerKvHeadsAndRecurrentLayers) {
  GgufWriter w;
  w.kv_str("general.architecture", "jamba");
  w.kv_u32("jamba.block_count", 4);
  w.kv_u32("jamba.embedding_length", 256);
  w.kv("jamba.attention.head_count", GgufValue::array_u32({8, 8, 8, 8}));
  w.kv("jamba.attention.head_count_kv", GgufValue::array_u32({0, 0, 0, 2}));
  w.kv_u32("jamba.ssm.conv_kernel", 4);
  w.kv_u32("jamba.ssm.inner_size", 512);
  w.kv_u32("jamba.ssm.state_size", 16);
  w.kv_u32("jamba.ssm.time_step_rank", 16);
  auto r = info_of(w);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(r->head_count_kv, ElementsAre(0, 0, 0, 2));
  EXPECT_THAT(r->recurrent_layers, ElementsAre(true, true, true, false));
  EXPECT_EQ(r->ssm_conv_kernel, 4u);
  EXPECT_EQ(r->ssm_inner_size, 512u);
  EXPECT_EQ(r->ssm_state_size, 16u);
  EXPECT_EQ(r->key_length, 32u);

  GgufWriter mamba;
  mamba.kv_str("general.architecture", "mamba");
  mamba.kv_u32("mamba.block_count", 3);
  auto m = info_of(mamba);
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(m->recurrent_layers, ElementsAre(true, true, true));

  GgufWriter bad;
  bad.kv_str("general.architecture", "jamba");
  bad.kv_u32("jamba.block_count", 4);
  bad.kv("jamba.attention.head_count_kv", GgufValue::array_u32({0, 2}));
  auto b = info_of(bad);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message,
            "m.gguf: key jamba.attention.head_count_kv has 2 entries but jamba.block_count is 4");
}

TEST(ModelInfo, MlaAndOtherKeys) {
  GgufWriter w;
  w.kv_str("general.architecture", "deepseek2");
  w.kv_u32("deepseek2.block_count", 1);
  w.kv_u32("deepseek2.attention.head_count", 16);
  w.kv_u32("deepseek2.attention.head_count_kv", 1);
  w.kv_u32("deepseek2.attention.key_length", 576);
  w.kv_u32("deepseek2.attention.value_length", 512);
  w.kv_u32("deepseek2.attention.key_length_mla", 192);
  w.kv_u32("deepseek2.attention.value_length_mla", 128);
  w.kv_u32("deepseek2.attention.kv_lora_rank", 512);
  w.kv_u32("deepseek2.nextn_predict_layers", 1);
  w.kv_u32("deepseek2.vocab_size", 1000);
  w.kv_bool("deepseek2.attention.causal", false);
  auto r = info_of(w);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->key_length, 576u);
  EXPECT_EQ(r->value_length, 512u);
  EXPECT_EQ(r->key_length_mla, 192u);
  EXPECT_EQ(r->value_length_mla, 128u);
  EXPECT_EQ(r->kv_lora_rank, 512u);
  EXPECT_EQ(r->nextn_predict_layers, 1u);
  EXPECT_EQ(r->vocab_size, 1000u);
  EXPECT_FALSE(r->causal);
}

TEST(ModelInfo, SplitModelCombinesEveryPart) {
  TempDir dir;
  const auto whole = testing::tiny_model(testing::tiny_llama_gqa());
  auto parts = testing::split_model(whole, 3);
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < 3; ++i) {
    paths.push_back(dir.file(fmt::format("tiny-{:05d}-of-00003.gguf", i + 1)));
    ASSERT_TRUE(parts[i].write_file(paths.back()).ok());
  }
  auto one = info_of(whole);
  ASSERT_TRUE(one.ok());
  // Any part names the whole model.
  auto r = get_model_info(paths[1]);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->path, paths[0]);
  EXPECT_EQ(r->parts, paths);
  EXPECT_EQ(r->tensors.size(), whole.tensors().size());
  EXPECT_EQ(r->parameter_count, one->parameter_count);
  EXPECT_EQ(r->weight_bytes, one->weight_bytes);
  EXPECT_EQ(r->layer_weight_bytes, one->layer_weight_bytes);
  EXPECT_EQ(r->file_bytes, parts[0].file_bytes() + parts[1].file_bytes() + parts[2].file_bytes());
  EXPECT_EQ(r->tensors.front().split_index, 0);
  EXPECT_EQ(r->tensors.back().split_index, 2);
  EXPECT_EQ(r->tensors.back().offset,
            parts[2].data_offset() + parts[2].tensor_offset(parts[2].tensors().size() - 1));
  EXPECT_EQ(r->architecture, "llama");

  std::filesystem::remove(paths[2]);
  auto missing = get_model_info(paths[0]);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "cannot open " + paths[2] +
                                         ": No such file or directory (part of the split model " +
                                         paths[0] + ")");
  const std::string odd = dir.file("renamed.gguf");
  ASSERT_TRUE(parts[0].write_file(odd).ok());
  auto bad_name = get_model_info(odd);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_EQ(bad_name.error().message,
            odd +
                ": a split model part must be named <name>-NNNNN-of-NNNNN.gguf "
                "(the file says it is one of 3 parts)");
  // Parts in the wrong order.
  ASSERT_TRUE(parts[0].write_file(paths[1]).ok());
  ASSERT_TRUE(parts[1].write_file(paths[2]).ok());
  auto swapped = get_model_info(paths[0]);
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().message, paths[1] + ": split.no is 0 where part 1 was expected");
}

TEST(ModelInfo, ProjectorAndFileTypes) {
  GgufWriter w;
  w.kv_str("general.architecture", "clip");
  w.kv_str("clip.projector_type", "gemma3");
  w.kv_bool("clip.has_vision_encoder", true);
  w.tensor("v.blk.0.attn_q.weight", {32, 32}, 1);
  auto r = info_of(w);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->is_projector);
  EXPECT_EQ(r->projector_type, "gemma3");
  EXPECT_EQ(r->other_nonlayer_bytes, 2048u);
  EXPECT_EQ(r->parameter_count, 1024u);
  EXPECT_EQ(llama_ftype_name(15), "Q4_K_M");
  EXPECT_EQ(llama_ftype_name(7), "Q8_0");
  EXPECT_EQ(llama_ftype_name(32), "BF16");
  EXPECT_EQ(llama_ftype_name(38), "MXFP4_MOE");
  EXPECT_EQ(llama_ftype_name(4), "");
  EXPECT_EQ(llama_ftype_name(1024), "");
}

TEST(ModelInfo, HostileHyperParameters) {
  GgufWriter layers;
  layers.kv_str("general.architecture", "llama");
  layers.kv_u32("llama.block_count", 0xffffffffu);
  auto r = info_of(layers);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "m.gguf: llama.block_count = 4294967295 is beyond any real model (limit 65536)");

  GgufWriter stray;
  stray.kv_str("general.architecture", "llama");
  stray.kv_u32("llama.block_count", 1);
  stray.tensor("blk.5.attn_q.weight", {32}, 0);
  auto s = info_of(stray);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "m.gguf: tensor 'blk.5.attn_q.weight' belongs to layer 5 but llama.block_count is 1");

  GgufWriter type;
  type.kv_str("general.architecture", "llama");
  type.kv_str("llama.context_length", "big");
  auto t = info_of(type);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message,
            "m.gguf: key llama.context_length should be a non-negative integer, not string");
}

}  // namespace
}  // namespace memopt::gguf

namespace memopt::gguf {
namespace {

// The tiny models the real llama.cpp loads (tests/support/tiny_models.h) must
// read back as the ModelInfo their generator describes.
TEST(ModelInfo, TinyRuntimeModelsReadBackExactly) {
  TempDir dir;
  for (auto arch : testing::all_tiny_archs()) {
    const std::string path = dir.file(testing::tiny_model_file_name(arch));
    ASSERT_TRUE(testing::write_tiny_model(arch, path).ok());
    auto r = get_model_info(path);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const ModelInfo want = testing::tiny_model_info(arch);
    const ModelInfo& got = *r;
    SCOPED_TRACE(path);
    EXPECT_EQ(got.architecture, want.architecture);
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.file_type_name, want.file_type_name);
    EXPECT_EQ(got.context_length, want.context_length);
    EXPECT_EQ(got.embedding_length, want.embedding_length);
    EXPECT_EQ(got.block_count, want.block_count);
    EXPECT_EQ(got.feed_forward_length, want.feed_forward_length);
    EXPECT_EQ(got.head_count, want.head_count);
    EXPECT_EQ(got.head_count_kv, want.head_count_kv);
    EXPECT_EQ(got.key_length, want.key_length);
    EXPECT_EQ(got.value_length, want.value_length);
    EXPECT_EQ(got.expert_count, want.expert_count);
    EXPECT_EQ(got.expert_used_count, want.expert_used_count);
    EXPECT_EQ(got.expert_feed_forward_length, want.expert_feed_forward_length);
    EXPECT_EQ(got.sliding_window, want.sliding_window);
    EXPECT_EQ(got.swa_layers, want.swa_layers);
    EXPECT_EQ(got.recurrent_layers, want.recurrent_layers);
    EXPECT_EQ(got.vocab_size, want.vocab_size);
    EXPECT_EQ(got.parameter_count, want.parameter_count);
    EXPECT_EQ(got.weight_bytes, want.weight_bytes);
    EXPECT_EQ(got.bytes_per_type, want.bytes_per_type);
    EXPECT_EQ(got.layer_weight_bytes, want.layer_weight_bytes);
    EXPECT_EQ(got.layer_expert_bytes, want.layer_expert_bytes);
    EXPECT_EQ(got.token_embd_bytes, want.token_embd_bytes);
    EXPECT_EQ(got.output_bytes, want.output_bytes);
    EXPECT_EQ(got.output_norm_bytes, want.output_norm_bytes);
    EXPECT_EQ(got.has_output_tensor, want.has_output_tensor);
    ASSERT_EQ(got.tensors.size(), want.tensors.size());
    for (size_t i = 0; i < got.tensors.size(); ++i) {
      EXPECT_EQ(got.tensors[i].name, want.tensors[i].name);
      EXPECT_EQ(got.tensors[i].shape, want.tensors[i].shape);
      EXPECT_EQ(got.tensors[i].size_bytes, want.tensors[i].size_bytes);
    }
  }
}

}  // namespace
}  // namespace memopt::gguf
