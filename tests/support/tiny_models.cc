#include "support/tiny_models.h"

#include <cstdio>
#include <variant>

#include "gguf/ggml_type.h"
#include "support/gguf_writer.h"

namespace memopt::testing {
namespace {

// ---- The spec: metadata and tensors of one tiny model ---------------------

using KvValue = std::variant<uint32_t, float, bool, std::string, std::vector<std::string>,
                             std::vector<float>, std::vector<int32_t>>;
struct Kv {
  std::string key;
  KvValue value;
};

enum class Fill { kOnes, kRandom };

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> shape;
  uint32_t type;  // F32 or F16 only
  Fill fill;
  int layer;
};

struct Dims {
  uint32_t n_embd = 128, n_head = 4, n_head_kv = 2, head_dim = 32, n_ff = 256, n_layer = 4;
  uint32_t n_ctx_train = 4096;
  uint32_t sliding_window = 0;
  uint32_t n_expert = 0, n_expert_used = 0, n_ff_exp = 0;
};

struct Spec {
  std::string arch;
  std::string name;
  Dims d;
  uint32_t n_vocab = 0;
  std::vector<Kv> kvs;
  std::vector<TensorSpec> tensors;
  std::vector<bool> swa_layers;
};

constexpr uint32_t kF32 = static_cast<uint32_t>(gguf::GgmlType::F32);
constexpr uint32_t kF16 = static_cast<uint32_t>(gguf::GgmlType::F16);

// A SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, the 256 byte
// fallback tokens llama.cpp looks up (e.g. <0x0A> for the newline token), and
// a few word pieces so that plain text tokenizes without only byte fallback.
void add_vocab(Spec& s) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};  // UNKNOWN, CONTROL, CONTROL
  std::vector<float> scores = {0.f, 0.f, 0.f};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.emplace_back(buf);
    types.push_back(6);  // BYTE
    scores.push_back(0.f);
  }
  const char* pieces[] = {"\xE2\x96\x81", "\xE2\x96\x81" "the", "\xE2\x96\x81" "a", "e", "t", "a",
                          "o",            "n",               "i",             "s", "r", "h",
                          "l",            "d",               "\xE2\x96\x81" "is", "er", "in", "on",
                          "an",           "\xE2\x96\x81" "to",  "\xE2\x96\x81" "of", "re", "at", "en",
                          "\xE2\x96\x81" "Hello", "\xE2\x96\x81" "world", ".", ",", "!"};
  float score = -1.f;
  for (const char* p : pieces) {
    tokens.emplace_back(p);
    types.push_back(1);  // NORMAL
    scores.push_back(score);
    score -= 1.f;
  }
  s.n_vocab = static_cast<uint32_t>(tokens.size());
  s.kvs.push_back({"tokenizer.ggml.model", std::string("llama")});
  s.kvs.push_back({"tokenizer.ggml.tokens", tokens});
  s.kvs.push_back({"tokenizer.ggml.scores", scores});
  s.kvs.push_back({"tokenizer.ggml.token_type", types});
  s.kvs.push_back({"tokenizer.ggml.unknown_token_id", uint32_t{0}});
  s.kvs.push_back({"tokenizer.ggml.bos_token_id", uint32_t{1}});
  s.kvs.push_back({"tokenizer.ggml.eos_token_id", uint32_t{2}});
  s.kvs.push_back({"tokenizer.ggml.add_bos_token", true});
}

void add_common_kvs(Spec& s) {
  const std::string& a = s.arch;
  const Dims& d = s.d;
  s.kvs.push_back({"general.architecture", a});
  s.kvs.push_back({"general.name", s.name});
  s.kvs.push_back({"general.file_type", uint32_t{1}});  // LLAMA_FTYPE_MOSTLY_F16
  s.kvs.push_back({a + ".context_length", d.n_ctx_train});
  s.kvs.push_back({a + ".embedding_length", d.n_embd});
  s.kvs.push_back({a + ".block_count", d.n_layer});
  s.kvs.push_back({a + ".feed_forward_length", d.n_ff});
  s.kvs.push_back({a + ".attention.head_count", d.n_head});
  s.kvs.push_back({a + ".attention.head_count_kv", d.n_head_kv});
  s.kvs.push_back({a + ".attention.key_length", d.head_dim});
  s.kvs.push_back({a + ".attention.value_length", d.head_dim});
  s.kvs.push_back({a + ".attention.layer_norm_rms_epsilon", 1e-6f});
  s.kvs.push_back({a + ".rope.freq_base", 10000.f});
}

void add_tensor(Spec& s, std::string name, std::vector<uint64_t> shape, uint32_t type, Fill fill,
                int layer = -1) {
  s.tensors.push_back({std::move(name), std::move(shape), type, fill, layer});
}

void add_attention(Spec& s, int il, bool qk_norm) {
  const Dims& d = s.d;
  const std::string p = "blk." + std::to_string(il) + ".";
  add_tensor(s, p + "attn_norm.weight", {d.n_embd}, kF32, Fill::kOnes, il);
  add_tensor(s, p + "attn_q.weight", {d.n_embd, uint64_t{d.n_head} * d.head_dim}, kF16, Fill::kRandom, il);
  add_tensor(s, p + "attn_k.weight", {d.n_embd, uint64_t{d.n_head_kv} * d.head_dim}, kF16,
             Fill::kRandom, il);
  add_tensor(s, p + "attn_v.weight", {d.n_embd, uint64_t{d.n_head_kv} * d.head_dim}, kF16,
             Fill::kRandom, il);
  add_tensor(s, p + "attn_output.weight", {uint64_t{d.n_head} * d.head_dim, d.n_embd}, kF16,
             Fill::kRandom, il);
  if (qk_norm) {
    add_tensor(s, p + "attn_q_norm.weight", {d.head_dim}, kF32, Fill::kOnes, il);
    add_tensor(s, p + "attn_k_norm.weight", {d.head_dim}, kF32, Fill::kOnes, il);
  }
}

void add_dense_ffn(Spec& s, int il) {
  const Dims& d = s.d;
  const std::string p = "blk." + std::to_string(il) + ".";
  add_tensor(s, p + "ffn_norm.weight", {d.n_embd}, kF32, Fill::kOnes, il);
  add_tensor(s, p + "ffn_gate.weight", {d.n_embd, d.n_ff}, kF16, Fill::kRandom, il);
  add_tensor(s, p + "ffn_up.weight", {d.n_embd, d.n_ff}, kF16, Fill::kRandom, il);
  add_tensor(s, p + "ffn_down.weight", {d.n_ff, d.n_embd}, kF16, Fill::kRandom, il);
}

Spec llama_spec() {
  Spec s;
  s.arch = "llama";
  s.name = "tiny-llama-gqa";
  add_common_kvs(s);
  s.kvs.push_back({"llama.rope.dimension_count", s.d.head_dim});
  add_vocab(s);
  add_tensor(s, "token_embd.weight", {s.d.n_embd, s.n_vocab}, kF16, Fill::kRandom);
  for (uint32_t il = 0; il < s.d.n_layer; ++il) {
    add_attention(s, static_cast<int>(il), false);
    add_dense_ffn(s, static_cast<int>(il));
  }
  add_tensor(s, "output_norm.weight", {s.d.n_embd}, kF32, Fill::kOnes);
  add_tensor(s, "output.weight", {s.d.n_embd, s.n_vocab}, kF16, Fill::kRandom);
  s.swa_layers.assign(s.d.n_layer, false);
  return s;
}

// Gemma2: llama.cpp sets a sliding-window period of 2 for this architecture
// (src/llama-model.cpp, LLM_ARCH_GEMMA2: set_swa_pattern(2)), i.e. even
// layers use the window and odd layers attend to the whole context. There is
// no output.weight: the output reuses token_embd.
Spec gemma2_spec() {
  Spec s;
  s.arch = "gemma2";
  s.name = "tiny-gemma2-swa";
  s.d.sliding_window = 128;
  add_common_kvs(s);
  s.kvs.push_back({"gemma2.attention.sliding_window", s.d.sliding_window});
  s.kvs.push_back({"gemma2.attn_logit_softcapping", 50.f});
  s.kvs.push_back({"gemma2.final_logit_softcapping", 30.f});
  add_vocab(s);
  add_tensor(s, "token_embd.weight", {s.d.n_embd, s.n_vocab}, kF16, Fill::kRandom);
  for (uint32_t il = 0; il < s.d.n_layer; ++il) {
    const int l = static_cast<int>(il);
    add_attention(s, l, false);
    const std::string p = "blk." + std::to_string(il) + ".";
    add_tensor(s, p + "post_attention_norm.weight", {s.d.n_embd}, kF32, Fill::kOnes, l);
    add_dense_ffn(s, l);
    add_tensor(s, p + "post_ffw_norm.weight", {s.d.n_embd}, kF32, Fill::kOnes, l);
  }
  add_tensor(s, "output_norm.weight", {s.d.n_embd}, kF32, Fill::kOnes);
  for (uint32_t il = 0; il < s.d.n_layer; ++il) s.swa_layers.push_back(il % 2 == 0);
  return s;
}

Spec qwen3moe_spec() {
  Spec s;
  s.arch = "qwen3moe";
  s.name = "tiny-qwen3moe";
  s.d.n_expert = 8;
  s.d.n_expert_used = 2;
  s.d.n_ff_exp = 64;
  add_common_kvs(s);
  s.kvs.push_back({"qwen3moe.expert_count", s.d.n_expert});
  s.kvs.push_back({"qwen3moe.expert_used_count", s.d.n_expert_used});
  s.kvs.push_back({"qwen3moe.expert_feed_forward_length", s.d.n_ff_exp});
  add_vocab(s);
  add_tensor(s, "token_embd.weight", {s.d.n_embd, s.n_vocab}, kF16, Fill::kRandom);
  const Dims& d = s.d;
  for (uint32_t il = 0; il < d.n_layer; ++il) {
    const int l = static_cast<int>(il);
    add_attention(s, l, true);
    const std::string p = "blk." + std::to_string(il) + ".";
    add_tensor(s, p + "ffn_norm.weight", {d.n_embd}, kF32, Fill::kOnes, l);
    add_tensor(s, p + "ffn_gate_inp.weight", {d.n_embd, d.n_expert}, kF32, Fill::kRandom, l);
    add_tensor(s, p + "ffn_gate_exps.weight", {d.n_embd, d.n_ff_exp, d.n_expert}, kF16,
               Fill::kRandom, l);
    add_tensor(s, p + "ffn_up_exps.weight", {d.n_embd, d.n_ff_exp, d.n_expert}, kF16,
               Fill::kRandom, l);
    add_tensor(s, p + "ffn_down_exps.weight", {d.n_ff_exp, d.n_embd, d.n_expert}, kF16,
               Fill::kRandom, l);
  }
  add_tensor(s, "output_norm.weight", {d.n_embd}, kF32, Fill::kOnes);
  add_tensor(s, "output.weight", {d.n_embd, s.n_vocab}, kF16, Fill::kRandom);
  s.swa_layers.assign(d.n_layer, false);
  return s;
}

Spec spec_for(TinyArch arch) {
  switch (arch) {
    case TinyArch::kLlamaGqa: return llama_spec();
    case TinyArch::kGemma2Swa: return gemma2_spec();
    case TinyArch::kQwen3Moe: return qwen3moe_spec();
  }
  return llama_spec();
}

uint64_t element_count(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (uint64_t v : shape) n *= v;
  return n;
}

uint64_t tensor_bytes(const TensorSpec& t) {
  return element_count(t.shape) * (t.type == kF32 ? 4 : 2);
}

// ---- Serialization through the test GGUF writer ---------------------------

GgufValue to_value(const KvValue& value) {
  return std::visit(
      [](const auto& v) -> GgufValue {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, uint32_t>) {
          return GgufValue::u32(v);
        } else if constexpr (std::is_same_v<V, float>) {
          return GgufValue::f32(v);
        } else if constexpr (std::is_same_v<V, bool>) {
          return GgufValue::boolean(v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          return GgufValue::str(v);
        } else if constexpr (std::is_same_v<V, std::vector<std::string>>) {
          return GgufValue::array_str(v);
        } else if constexpr (std::is_same_v<V, std::vector<float>>) {
          return GgufValue::array_f32(v);
        } else {
          return GgufValue::array_i32(v);
        }
      },
      value);
}

GgufWriter build_writer(const Spec& s) {
  GgufWriter w;
  for (const Kv& kv : s.kvs) w.kv(kv.key, to_value(kv.value));
  // Small deterministic weights (an LCG, Numerical Recipes constants) keep
  // activations finite through the few layers; norms are 1 as after training.
  uint32_t state = 12345;
  for (const TensorSpec& t : s.tensors) {
    std::vector<float> values(element_count(t.shape), 1.f);
    if (t.fill == Fill::kRandom) {
      for (float& v : values) {
        state = state * 1664525u + 1013904223u;
        v = (static_cast<float>(state >> 8) / 16777216.f - 0.5f) * 0.1f;
      }
    }
    w.tensor_values(t.name, t.shape, t.type, values);
  }
  return w;
}

}  // namespace

std::vector<TinyArch> all_tiny_archs() {
  return {TinyArch::kLlamaGqa, TinyArch::kGemma2Swa, TinyArch::kQwen3Moe};
}

std::string tiny_model_file_name(TinyArch arch) { return spec_for(arch).name + ".gguf"; }

Status write_tiny_model(TinyArch arch, const std::string& path) {
  return build_writer(spec_for(arch)).write_file(path);
}

Result<std::vector<std::string>> write_tiny_models(const std::string& dir) {
  std::vector<std::string> paths;
  for (TinyArch a : all_tiny_archs()) {
    std::string path = dir + "/" + tiny_model_file_name(a);
    Status st = write_tiny_model(a, path);
    if (!st) return st.error();
    paths.push_back(std::move(path));
  }
  return paths;
}

gguf::ModelInfo tiny_model_info(TinyArch arch) {
  const Spec s = spec_for(arch);
  const Dims& d = s.d;
  gguf::ModelInfo m;
  m.name = s.name;
  m.architecture = s.arch;
  m.gguf_version = 3;
  m.file_type = 1;
  m.file_type_name = "F16";
  m.context_length = d.n_ctx_train;
  m.embedding_length = d.n_embd;
  m.block_count = d.n_layer;
  m.feed_forward_length.assign(d.n_layer, d.n_ff);
  m.head_count.assign(d.n_layer, d.n_head);
  m.head_count_kv.assign(d.n_layer, d.n_head_kv);
  m.key_length = d.head_dim;
  m.value_length = d.head_dim;
  m.expert_count = d.n_expert;
  m.expert_used_count = d.n_expert_used;
  m.expert_feed_forward_length = d.n_ff_exp;
  m.sliding_window = d.sliding_window;
  m.swa_layers = s.swa_layers;
  m.recurrent_layers.assign(d.n_layer, false);
  m.vocab_size = s.n_vocab;
  m.layer_weight_bytes.assign(d.n_layer, 0);
  m.layer_expert_bytes.assign(d.n_layer, 0);
  for (const TensorSpec& t : s.tensors) {
    gguf::TensorInfo ti;
    ti.name = t.name;
    ti.shape = t.shape;
    ti.type = t.type;
    ti.size_bytes = tensor_bytes(t);
    ti.layer = t.layer;
    m.parameter_count += element_count(t.shape);
    m.weight_bytes += ti.size_bytes;
    m.bytes_per_type[t.type == kF32 ? "f32" : "f16"] += ti.size_bytes;
    if (t.layer >= 0) {
      m.layer_weight_bytes[t.layer] += ti.size_bytes;
      if (t.name.find("_exps.") != std::string::npos) m.layer_expert_bytes[t.layer] += ti.size_bytes;
    } else if (t.name == "token_embd.weight") {
      m.token_embd_bytes = ti.size_bytes;
    } else if (t.name == "output.weight") {
      m.output_bytes = ti.size_bytes;
      m.has_output_tensor = true;
    } else if (t.name == "output_norm.weight") {
      m.output_norm_bytes = ti.size_bytes;
    } else {
      m.other_nonlayer_bytes += ti.size_bytes;
    }
    m.tensors.push_back(std::move(ti));
  }
  return m;
}

}  // namespace memopt::testing
