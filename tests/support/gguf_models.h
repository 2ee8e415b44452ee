#pragma once
// Tiny models for tests, built with GgufWriter: a llama with GQA, a
// gemma3-style model with sliding-window layers, a qwen2moe-style MoE, and
// split copies of any of them. Tensor names and shapes follow llama.cpp's
// loaders (src/llama-model.cpp), so the llama one loads in the real llama.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "support/gguf_writer.h"

namespace memopt::testing {

struct TinyModelSpec {
  std::string arch = "llama";
  std::string name = "tiny-llama";
  uint32_t n_layer = 2;
  uint32_t n_embd = 64;
  uint32_t n_head = 4;
  uint32_t n_head_kv = 2;  // GQA: 2 query heads per KV head
  uint32_t n_ff = 128;
  uint32_t n_ctx = 512;
  uint32_t weight_type = 1;  // ggml type of the 2-D weights (f16); norms stay f32
  uint32_t n_expert = 0;     // > 0: MoE FFN (ffn_*_exps)
  uint32_t n_expert_used = 0;
  uint32_t n_ff_exp = 0;
  uint32_t sliding_window = 0;  // written when > 0
  bool tied_output = false;     // no output.weight
  uint32_t version = 3;
  uint32_t file_type = 1;  // general.file_type (llama_ftype)
};

// Number of tokens in the tiny SentencePiece-style vocabulary.
inline constexpr uint32_t kTinyVocab = 288;

// A complete model: metadata, vocabulary, tensors with deterministic values.
GgufWriter tiny_model(const TinyModelSpec& spec);

TinyModelSpec tiny_llama_gqa();  // llama, 2 layers, 4 heads / 2 KV heads
TinyModelSpec tiny_gemma_swa();  // gemma3, 6 layers, window 128 (pattern from the architecture)
TinyModelSpec tiny_qwen_moe();   // qwen2moe, 4 experts, 2 used

// Splits `whole` into `parts` files as llama.cpp's gguf-split does: part 1
// keeps the metadata, every part gets split.no / split.count /
// split.tensors.count, tensors are dealt out in order.
std::vector<GgufWriter> split_model(const GgufWriter& whole, uint32_t parts);

}  // namespace memopt::testing
