#include "support/gguf_models.h"

#include <fmt/format.h>

namespace memopt::testing {
namespace {

constexpr uint32_t kF32 = 0;

// A SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte tokens
// llama.cpp's SPM tokenizer falls back to, then a few words.
void add_vocab(GgufWriter& w) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};  // llama_token_type: UNKNOWN, CONTROL
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(fmt::format("<0x{:02X}>", b));
    types.push_back(6);  // BYTE
  }
  tokens.push_back("\xe2\x96\x81");  // "▁", SentencePiece's space
  types.push_back(1);
  for (char c = 'a'; c <= 'z'; ++c) {
    tokens.push_back(std::string(1, c));
    types.push_back(1);
  }
  tokens.push_back("\xe2\x96\x81the");
  tokens.push_back(
      "\xe2\x96\x81"
      "a");
  types.push_back(1);
  types.push_back(1);
  std::vector<float> scores(tokens.size(), 0.0f);
  for (size_t i = 259; i < tokens.size(); ++i) scores[i] = -static_cast<float>(i - 258);
  w.kv_str("tokenizer.ggml.model", "llama");
  w.kv("tokenizer.ggml.tokens", GgufValue::array_str(tokens));
  w.kv("tokenizer.ggml.scores", GgufValue::array_f32(scores));
  w.kv("tokenizer.ggml.token_type", GgufValue::array_i32(types));
  w.kv_u32("tokenizer.ggml.unknown_token_id", 0);
  w.kv_u32("tokenizer.ggml.bos_token_id", 1);
  w.kv_u32("tokenizer.ggml.eos_token_id", 2);
}

}  // namespace

TinyModelSpec tiny_llama_gqa() { return {}; }

TinyModelSpec tiny_gemma_swa() {
  TinyModelSpec s;
  s.arch = "gemma3";
  s.name = "tiny-gemma3";
  s.n_layer = 6;
  s.n_head = 4;
  s.n_head_kv = 1;
  s.sliding_window = 128;
  s.tied_output = true;
  return s;
}

TinyModelSpec tiny_qwen_moe() {
  TinyModelSpec s;
  s.arch = "qwen2moe";
  s.name = "tiny-qwen2moe";
  s.n_layer = 3;
  s.n_head = 4;
  s.n_head_kv = 4;
  s.n_expert = 4;
  s.n_expert_used = 2;
  s.n_ff_exp = 32;
  s.n_ff = 64;  // the shared expert
  return s;
}

GgufWriter tiny_model(const TinyModelSpec& s) {
  GgufWriter w(s.version);
  const std::string a = s.arch;
  const uint32_t head_dim = s.n_embd / s.n_head;
  const uint64_t n_embd_kv = uint64_t{head_dim} * s.n_head_kv;
  const uint32_t wt = s.weight_type;
  w.kv_str("general.architecture", a);
  w.kv_str("general.name", s.name);
  w.kv_u32("general.file_type", s.file_type);
  w.kv_u32(a + ".context_length", s.n_ctx);
  w.kv_u32(a + ".embedding_length", s.n_embd);
  w.kv_u32(a + ".block_count", s.n_layer);
  w.kv_u32(a + ".feed_forward_length", s.n_ff);
  w.kv_u32(a + ".attention.head_count", s.n_head);
  w.kv_u32(a + ".attention.head_count_kv", s.n_head_kv);
  w.kv_f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
  w.kv_u32(a + ".rope.dimension_count", head_dim);
  w.kv_f32(a + ".rope.freq_base", 10000.0f);
  if (s.sliding_window > 0) w.kv_u32(a + ".attention.sliding_window", s.sliding_window);
  if (s.n_expert > 0) {
    w.kv_u32(a + ".expert_count", s.n_expert);
    w.kv_u32(a + ".expert_used_count", s.n_expert_used);
    w.kv_u32(a + ".expert_feed_forward_length", s.n_ff_exp);
    w.kv_u32(a + ".expert_shared_feed_forward_length", s.n_ff);
  }
  add_vocab(w);

  // ggml shapes are {ne0, ne1, ...}: a weight mapping n_in -> n_out is {n_in, n_out}.
  w.tensor("token_embd.weight", {s.n_embd, kTinyVocab}, wt);
  w.tensor("output_norm.weight", {s.n_embd}, kF32);
  if (!s.tied_output) w.tensor("output.weight", {s.n_embd, kTinyVocab}, wt);
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    auto n = [&](const char* t) { return fmt::format("blk.{}.{}", il, t); };
    w.tensor(n("attn_norm.weight"), {s.n_embd}, kF32);
    w.tensor(n("attn_q.weight"), {s.n_embd, uint64_t{head_dim} * s.n_head}, wt);
    w.tensor(n("attn_k.weight"), {s.n_embd, n_embd_kv}, wt);
    w.tensor(n("attn_v.weight"), {s.n_embd, n_embd_kv}, wt);
    w.tensor(n("attn_output.weight"), {uint64_t{head_dim} * s.n_head, s.n_embd}, wt);
    if (a == "gemma3") {
      w.tensor(n("attn_q_norm.weight"), {head_dim}, kF32);
      w.tensor(n("attn_k_norm.weight"), {head_dim}, kF32);
      w.tensor(n("post_attention_norm.weight"), {s.n_embd}, kF32);
      w.tensor(n("post_ffw_norm.weight"), {s.n_embd}, kF32);
    }
    w.tensor(n("ffn_norm.weight"), {s.n_embd}, kF32);
    if (s.n_expert > 0) {
      w.tensor(n("ffn_gate_inp.weight"), {s.n_embd, s.n_expert}, kF32);
      w.tensor(n("ffn_gate_exps.weight"), {s.n_embd, s.n_ff_exp, s.n_expert}, wt);
      w.tensor(n("ffn_up_exps.weight"), {s.n_embd, s.n_ff_exp, s.n_expert}, wt);
      w.tensor(n("ffn_down_exps.weight"), {s.n_ff_exp, s.n_embd, s.n_expert}, wt);
      w.tensor(n("ffn_gate_inp_shexp.weight"), {s.n_embd}, kF32);
      w.tensor(n("ffn_gate_shexp.weight"), {s.n_embd, s.n_ff}, wt);
      w.tensor(n("ffn_up_shexp.weight"), {s.n_embd, s.n_ff}, wt);
      w.tensor(n("ffn_down_shexp.weight"), {s.n_ff, s.n_embd}, wt);
    } else {
      w.tensor(n("ffn_gate.weight"), {s.n_embd, s.n_ff}, wt);
      w.tensor(n("ffn_up.weight"), {s.n_embd, s.n_ff}, wt);
      w.tensor(n("ffn_down.weight"), {s.n_ff, s.n_embd}, wt);
    }
  }
  return w;
}

std::vector<GgufWriter> split_model(const GgufWriter& whole, uint32_t parts) {
  std::vector<GgufWriter> out;
  const auto& tensors = whole.tensors();
  const size_t total = tensors.size();
  for (uint32_t i = 0; i < parts; ++i) {
    GgufWriter w(3);
    if (i == 0) {
      for (const auto& kv : whole.kvs()) w.kv(kv.key, kv.value);
    }
    // Types as llama.cpp's gguf-split writes them (u16, u16, i32).
    w.kv("split.no", GgufValue::u16(static_cast<uint16_t>(i)));
    w.kv("split.count", GgufValue::u16(static_cast<uint16_t>(parts)));
    w.kv("split.tensors.count", GgufValue::i32(static_cast<int32_t>(total)));
    for (size_t t = total * i / parts; t < total * (i + 1) / parts; ++t) w.tensor_spec(tensors[t]);
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace memopt::testing
