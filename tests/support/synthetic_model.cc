#include "support/synthetic_model.h"

#include <string>

#include "gguf/ggml_type.h"

namespace memopt::testing {
namespace {

void add(gguf::ModelInfo& m, std::string name, std::vector<uint64_t> shape, uint32_t type,
         int layer) {
  gguf::TensorInfo t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.type = type;
  t.layer = layer;
  uint64_t rows = 1;
  for (size_t i = 1; i < t.shape.size(); ++i) rows *= t.shape[i];
  t.size_bytes = gguf::ggml_row_bytes(type, t.shape[0]).value_or(0) * rows;
  m.weight_bytes += t.size_bytes;
  uint64_t n = 1;
  for (uint64_t d : t.shape) n *= d;
  m.parameter_count += n;
  if (layer >= 0) {
    m.layer_weight_bytes[layer] += t.size_bytes;
    if (t.name.find("_exps") != std::string::npos) m.layer_expert_bytes[layer] += t.size_bytes;
  }
  m.tensors.push_back(std::move(t));
}

}  // namespace

gguf::ModelInfo synthetic_model_info(const SyntheticModelSpec& s) {
  constexpr uint32_t kF32 = 0;
  gguf::ModelInfo m;
  m.architecture = s.n_expert ? "qwen3moe" : "llama";
  m.name = "synthetic";
  m.block_count = s.n_layer;
  m.embedding_length = s.n_embd;
  m.context_length = s.n_ctx_train;
  m.vocab_size = s.n_vocab;
  m.head_count.assign(s.n_layer, s.n_head);
  m.head_count_kv.assign(s.n_layer, s.n_head_kv);
  m.feed_forward_length.assign(s.n_layer, s.n_ff);
  m.swa_layers.assign(s.n_layer, false);
  m.recurrent_layers.assign(s.n_layer, false);
  m.expert_count = s.n_expert;
  m.expert_used_count = s.n_expert_used;
  m.expert_feed_forward_length = s.n_expert ? s.n_ff : 0;
  m.layer_weight_bytes.assign(s.n_layer, 0);
  m.layer_expert_bytes.assign(s.n_layer, 0);
  const uint64_t head_dim = s.n_embd / s.n_head;
  const uint64_t kv = head_dim * s.n_head_kv;
  add(m, "token_embd.weight", {s.n_embd, s.n_vocab}, s.weight_type, -1);
  for (uint32_t il = 0; il < s.n_layer; ++il) {
    const int l = static_cast<int>(il);
    const std::string p = "blk." + std::to_string(il) + ".";
    add(m, p + "attn_norm.weight", {s.n_embd}, kF32, l);
    add(m, p + "attn_q.weight", {s.n_embd, s.n_embd}, s.weight_type, l);
    add(m, p + "attn_k.weight", {s.n_embd, kv}, s.weight_type, l);
    add(m, p + "attn_v.weight", {s.n_embd, kv}, s.weight_type, l);
    add(m, p + "attn_output.weight", {s.n_embd, s.n_embd}, s.weight_type, l);
    add(m, p + "ffn_norm.weight", {s.n_embd}, kF32, l);
    if (s.n_expert) {
      add(m, p + "ffn_gate_inp.weight", {s.n_embd, s.n_expert}, kF32, l);
      add(m, p + "ffn_gate_exps.weight", {s.n_embd, s.n_ff, s.n_expert}, s.weight_type, l);
      add(m, p + "ffn_up_exps.weight", {s.n_embd, s.n_ff, s.n_expert}, s.weight_type, l);
      add(m, p + "ffn_down_exps.weight", {s.n_ff, s.n_embd, s.n_expert}, s.weight_type, l);
    } else {
      add(m, p + "ffn_gate.weight", {s.n_embd, s.n_ff}, s.weight_type, l);
      add(m, p + "ffn_up.weight", {s.n_embd, s.n_ff}, s.weight_type, l);
      add(m, p + "ffn_down.weight", {s.n_ff, s.n_embd}, s.weight_type, l);
    }
  }
  add(m, "output_norm.weight", {s.n_embd}, kF32, -1);
  m.output_norm_bytes = m.tensors.back().size_bytes;
  m.token_embd_bytes = m.tensors.front().size_bytes;
  if (!s.tied_output) {
    add(m, "output.weight", {s.n_embd, s.n_vocab}, s.weight_type, -1);
    m.output_bytes = m.tensors.back().size_bytes;
    m.has_output_tensor = true;
  }
  return m;
}

}  // namespace memopt::testing
