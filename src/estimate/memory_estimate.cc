#include "estimate/memory_estimate.h"

#include <algorithm>
#include <string>

#include "gguf/ggml_type.h"

namespace memopt::estimate {
namespace {

constexpr uint64_t kCtxPad = 256;  // llama.cpp pads n_ctx and KV sizes to 256 cells
constexpr uint32_t kMaxLayers = 100000;

uint64_t pad(uint64_t x, uint64_t n) { return (x + n - 1) / n * n; }

template <typename T>
T at_or(const std::vector<T> &v, size_t i, T fallback) {
  return i < v.size() ? v[i] : fallback;
}

bool has_suffix(const std::string &s, const std::string &suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Recurrent state per sequence in f32 elements (llama-hparams.cpp n_embd_r()
// + n_embd_s()): Mamba conv + SSM state, RWKV token shift + WKV state, LFM2
// short-convolution cache.
uint64_t recurrent_floats(const gguf::ModelInfo &m) {
  const uint64_t e = m.embedding_length;
  if (m.wkv_head_size > 0) {
    return uint64_t{std::max<uint32_t>(m.token_shift_count, 1)} * e + e * m.wkv_head_size;
  }
  if (m.shortconv_l_cache > 0) return e * (m.shortconv_l_cache - 1);
  if (m.ssm_conv_kernel > 0) {
    const uint64_t d_conv = m.ssm_conv_kernel, d_inner = m.ssm_inner_size,
                   d_state = m.ssm_state_size, n_group = m.ssm_group_count;
    return (d_conv - 1) * (d_inner + 2 * n_group * d_state) + d_state * d_inner;
  }
  return 0;
}

// Architectures without KV memory (llama_model::create_memory returns none)
// and, of those, the ones whose graph ends in pooling instead of logits.
bool arch_in(const std::string &arch, std::initializer_list<const char *> names) {
  for (const char *n : names) {
    if (arch == n) return true;
  }
  return false;
}
bool arch_without_memory(const std::string &arch) {
  return arch_in(arch, {"bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert",
                        "jina-bert-v2", "jina-bert-v3", "eurobert", "gemma-embedding",
                        "wavtokenizer-dec", "dream", "llada", "llada-moe", "rnd1"});
}
bool arch_without_logits(const std::string &arch) {
  return arch_in(arch, {"bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert",
                        "jina-bert-v2", "jina-bert-v3", "eurobert", "gemma-embedding"});
}

// ggml-cpu's repack (ggml_repack_get_optimal_repack_type, x86 AVX2 branch).
bool cpu_repacks(uint32_t type, uint64_t rows) {
  const bool repackable = type == static_cast<uint32_t>(gguf::GgmlType::Q4_0) ||
                          type == static_cast<uint32_t>(gguf::GgmlType::Q4_K) ||
                          type == static_cast<uint32_t>(gguf::GgmlType::IQ4_NL) ||
                          type == static_cast<uint32_t>(gguf::GgmlType::MXFP4);
  return repackable && rows % 8 == 0;
}

}  // namespace

uint64_t gpu_tensor_bytes(const gguf::TensorInfo &t, const GpuTraits &gpu) {
  uint64_t size = t.size_bytes;
  auto traits = gguf::ggml_type_traits(t.type);
  if (traits && traits->quantized && gpu.quantized_row_padding > 0 && !t.shape.empty()) {
    const uint64_t ne0 = t.shape[0];
    if (ne0 % gpu.quantized_row_padding != 0) {
      auto extra =
          gguf::ggml_row_bytes(t.type, gpu.quantized_row_padding - ne0 % gpu.quantized_row_padding);
      if (extra) size += *extra;
    }
  }
  return pad(size, std::max<uint64_t>(gpu.alignment, 1));
}

const std::vector<std::string> &checked_architectures() {
  // The families of tests/node/estimate_families.mjs, checked against
  // llama.cpp by tests/estimate_accuracy.cmake (which also asserts this list
  // equals the families'). Sorted: looked up by binary search.
  static const std::vector<std::string> kChecked = {
      "bert",    "cohere2",       "deepseek2", "gemma2",   "gemma3",   "gemma3n",  "glm4moe",
      "gpt-oss", "granitehybrid", "lfm2",      "llama",    "llama4",   "mistral3", "olmo2",
      "phi3",    "qwen2",         "qwen3",     "qwen3moe", "qwen3next"};
  return kChecked;
}

bool architecture_checked(const std::string &architecture) {
  const auto &c = checked_architectures();
  return std::binary_search(c.begin(), c.end(), architecture);
}

uint64_t MemoryEstimate::total_bytes() const {
  uint64_t t = 0;
  for (const auto &d : devices) t += d.total_bytes();
  return t;
}

uint64_t MemoryEstimate::gpu_bytes() const {
  uint64_t t = 0;
  for (const auto &d : devices) {
    if (d.is_gpu) t += d.total_bytes();
  }
  return t;
}

uint64_t MemoryEstimate::kv_total_bytes() const {
  uint64_t t = 0;
  for (const auto &d : devices) t += d.kv_bytes + d.recurrent_bytes;
  return t;
}

Result<ModelCosts> prepare_model_costs(const gguf::ModelInfo &m, const GpuTraits &gpu) {
  const std::string where = m.path.empty() ? "the model" : m.path;
  if (m.block_count == 0 || m.block_count > kMaxLayers) {
    return make_error(where + ": block_count " + std::to_string(m.block_count) +
                      " is not a usable layer count; is this a language model GGUF?");
  }
  if (m.embedding_length == 0) {
    return make_error(where + ": embedding_length is missing; cannot size the KV cache");
  }
  // Bounds far above any real model (the largest today: ~100k embedding,
  // 256k vocabulary, 128 heads of 576) keep every product below 2^64.
  if (m.embedding_length > (1u << 24) || m.vocab_size > (1u << 26) || m.key_length > (1u << 16) ||
      m.value_length > (1u << 16) || m.key_length_swa > (1u << 16) ||
      m.value_length_swa > (1u << 16)) {
    return make_error(where + ": implausible dimensions (embedding " +
                      std::to_string(m.embedding_length) + ", vocabulary " +
                      std::to_string(m.vocab_size) + ", head size " + std::to_string(m.key_length) +
                      "); the file's metadata looks corrupt");
  }
  for (uint32_t h : m.head_count) {
    if (h > (1u << 16)) return make_error(where + ": implausible head_count " + std::to_string(h));
  }
  for (uint32_t h : m.head_count_kv) {
    if (h > (1u << 16))
      return make_error(where + ": implausible head_count_kv " + std::to_string(h));
  }
  for (uint64_t f : m.feed_forward_length) {
    if (f > (1u << 24))
      return make_error(where + ": implausible feed_forward_length " + std::to_string(f));
  }
  if (m.expert_count > 4096 || m.expert_feed_forward_length > (1u << 24) ||
      m.ssm_inner_size > (1u << 24) || m.ssm_state_size > (1u << 16) || m.ssm_conv_kernel > 1024 ||
      m.ssm_group_count > 4096 || m.wkv_head_size > (1u << 16) || m.token_shift_count > 64 ||
      m.shortconv_l_cache > 4096 || m.expert_used_count > 4096 || m.kv_lora_rank > (1u << 16) ||
      m.value_length_mla > (1u << 16) || m.key_length_mla > (1u << 16)) {
    return make_error(where +
                      ": implausible expert or recurrent-state dimensions; the file's "
                      "metadata looks corrupt");
  }
  const uint32_t n_layer = m.block_count;
  ModelCosts c;
  c.layers.resize(n_layer);
  c.n_embd = m.embedding_length;
  c.n_vocab = m.vocab_size;
  c.n_expert = m.expert_count;
  c.n_ctx_train = static_cast<uint32_t>(std::min<uint64_t>(m.context_length, UINT32_MAX));
  c.sliding_window = m.sliding_window;
  c.is_mla = m.key_length_mla > 0;
  if (c.is_mla) {
    c.mla_kv_rank = m.kv_lora_rank;
    c.mla_v_head = m.value_length_mla;
  }
  c.n_expert_used = m.expert_count > 0 ? std::max<uint32_t>(m.expert_used_count, 1) : 0;
  c.causal = m.causal;
  c.has_memory = !arch_without_memory(m.architecture);
  c.has_logits = !arch_without_logits(m.architecture);
  // Non-MLA graphs that set res->t_h_nextn (deepseek2's MLA layout has its own
  // residual term, mla_per_token_bytes).
  c.hidden_output = !c.is_mla && arch_in(m.architecture, {"qwen3next", "step35"});
  const uint32_t kv_layers = m.shared_kv_layers < n_layer ? n_layer - m.shared_kv_layers : n_layer;
  const uint64_t rec = recurrent_floats(m);
  uint64_t ff_max = 0;
  for (uint32_t il = 0; il < n_layer; ++il) {
    auto &L = c.layers[il];
    L.n_head = at_or<uint32_t>(m.head_count, il, m.head_count.empty() ? 0 : m.head_count.back());
    L.n_head_kv = at_or<uint32_t>(m.head_count_kv, il,
                                  m.head_count_kv.empty() ? L.n_head : m.head_count_kv.back());
    L.swa = at_or<bool>(m.swa_layers, il, false) && m.sliding_window > 0;
    L.recurrent = at_or<bool>(m.recurrent_layers, il, false);
    const uint32_t d_default =
        L.n_head > 0 ? static_cast<uint32_t>(m.embedding_length / L.n_head) : 0;
    uint32_t dk = m.key_length ? m.key_length : d_default;
    uint32_t dv = m.value_length ? m.value_length : d_default;
    if (L.swa) {
      if (m.key_length_swa) dk = m.key_length_swa;
      if (m.value_length_swa) dv = m.value_length_swa;
    }
    L.d_k = dk;
    L.d_v = c.is_mla ? 0 : dv;  // MLA caches K only; V is a view of it
    L.has_kv = c.has_memory && !L.recurrent && L.n_head_kv > 0 && il < kv_layers;
    L.recurrent_floats = L.recurrent ? rec : 0;
    c.q_dim = std::max<uint64_t>(c.q_dim, uint64_t{L.n_head} * dk);
    c.kv_dim = std::max<uint64_t>(c.kv_dim, uint64_t{L.n_head_kv} * (dk + dv));
    ff_max = std::max<uint64_t>(ff_max, at_or<uint64_t>(m.feed_forward_length, il, 0));
  }
  c.n_ff_active = m.expert_count > 0
                      ? uint64_t{std::max<uint32_t>(m.expert_used_count, 1)} *
                            (m.expert_feed_forward_length ? m.expert_feed_forward_length : ff_max)
                      : ff_max;

  bool has_output = false, any_ffn_up = false, any_ffn_gate = false;
  for (const auto &t : m.tensors) {
    // An up projection twice the FFN width carries the gate too (phi3's fused
    // gate_up); only an up projection of the FFN width alone is ungated.
    if (t.name.find(".ffn_up.") != std::string::npos && t.shape.size() >= 2) {
      any_ffn_up = true;
      any_ffn_gate = any_ffn_gate || (ff_max > 0 && t.shape[1] >= 2 * ff_max);
    }
    any_ffn_gate = any_ffn_gate || t.name.find(".ffn_gate.") != std::string::npos ||
                   t.name.find(".ffn_gate_exps") != std::string::npos ||
                   t.name.find(".ffn_gate_up") != std::string::npos;
    const uint64_t host = pad(t.size_bytes, kCpuAlignment);
    const uint64_t dev = gpu_tensor_bytes(t, gpu);
    if (t.layer >= 0) {
      if (static_cast<uint32_t>(t.layer) >= n_layer) {
        return make_error(where + ": tensor " + t.name + " belongs to layer " +
                          std::to_string(t.layer) + " but block_count is " +
                          std::to_string(n_layer));
      }
      auto &L = c.layers[t.layer];
      L.weights_host += host;
      L.weights_gpu += dev;
      if (t.name.find("_exps") != std::string::npos) {
        L.experts_host += host;
        L.experts_gpu += dev;
      }
      if (t.shape.size() >= 2) L.largest_matrix = std::max(L.largest_matrix, t.size_bytes);
      // A Q projection wider than the heads carries a fused output gate
      // (qwen3next: n_head x d_k x 2), alive with the attention activations.
      if (t.shape.size() >= 2 && has_suffix(t.name, ".attn_q.weight")) {
        const uint64_t q_heads = uint64_t{L.n_head} * L.d_k;
        if (t.shape[1] > q_heads) c.q_gate = std::max(c.q_gate, t.shape[1] - q_heads);
      }
      if (t.name.find("post_attention_norm") != std::string::npos ||
          t.name.find("post_ffw_norm") != std::string::npos) {
        c.post_norms = true;
      }
      if (t.shape.size() >= 2 && t.name.find(".ffn_up_shexp.") != std::string::npos)
        c.n_ff_shared = std::max<uint64_t>(c.n_ff_shared, t.shape[1]);
      if (t.name.find(".exp_probs_b") != std::string::npos) c.expert_bias = true;
    } else if (t.name == "position_embd.weight") {
      c.learned_positions = true;
      c.other_host += host;
    } else if (t.name == "token_embd.weight") {
      c.token_embd_host = host;
      c.token_embd_gpu = dev;
      if (t.shape.size() >= 2 && cpu_repacks(t.type, t.shape[1])) c.tied_output_host_repack = host;
    } else if (t.name == "per_layer_token_embd.weight" && !t.shape.empty()) {
      // gemma3n: every layer's input slice is computed up front and kept.
      c.other_host += host;
      c.persistent += t.shape[0];
    } else if (t.name == "altup_proj.weight" && t.shape.size() >= 3) {
      // gemma3n AltUp: the extra predicted streams live across all layers.
      c.other_host += host;
      c.persistent += t.shape[2] * m.embedding_length;
    } else if (t.name == "output.weight" || t.name == "output_norm.weight" ||
               has_suffix(t.name, "output_norm.bias") || t.name == "output.bias") {
      c.output_host += host;
      c.output_gpu += dev;
      if (t.name == "output.weight") has_output = true;
    } else {
      c.other_host += host;
    }
  }
  // No output.weight: llama.cpp creates token_embd a second time as the output
  // tensor (TENSOR_DUPLICATED); on a GPU that is a second copy.
  c.tied_output = !has_output && c.token_embd_host > 0;
  c.ffn_gated = any_ffn_gate || !any_ffn_up;
  if (!c.tied_output) c.tied_output_host_repack = 0;
  uint64_t params = m.parameter_count, bytes = m.weight_bytes;
  if (params == 0) {
    for (const auto &t : m.tensors) {
      uint64_t n = 1;
      for (uint64_t d : t.shape) n *= d;
      params += n;
      bytes += t.size_bytes;
    }
  }
  if (params > 0)
    c.bits_per_weight = static_cast<double>(bytes) * 8.0 / static_cast<double>(params);
  return c;
}

std::vector<int> assign_layer_devices(uint32_t n_layer, const Placement &p) {
  // llama.cpp load_tensors: i_gpu_start = max(n_layer + 1 - ngl, 0),
  // act = min(ngl, n_layer + 1); layer il >= i_gpu_start goes to
  // upper_bound(cumulative splits, (il - i_gpu_start) / act). The output
  // layer is il = n_layer. Splits are floats there, so they are here.
  std::vector<int> dev(n_layer + 1, 0);
  if (p.n_gpus == 0 || p.n_gpu_layers == 0) return dev;
  std::vector<float> splits(p.n_gpus, 1.0f);
  if (p.tensor_split.size() == p.n_gpus) {
    double sum = 0;
    for (double s : p.tensor_split) sum += s;
    if (sum > 0) {
      for (uint32_t i = 0; i < p.n_gpus; ++i) splits[i] = static_cast<float>(p.tensor_split[i]);
    }
  }
  float acc = 0;
  for (float &s : splits) {
    acc += s;
    s = acc;
  }
  for (float &s : splits) s /= acc;
  const int64_t total = int64_t{n_layer} + 1;
  const int64_t ngl = std::min<int64_t>(p.n_gpu_layers, total);
  const int64_t start = std::max<int64_t>(total - ngl, 0);
  for (int64_t il = start; il < total; ++il) {
    const float x = static_cast<float>(il - start) / static_cast<float>(ngl);
    const auto it = std::upper_bound(splits.begin(), splits.end(), x);
    const int64_t g = std::min<int64_t>(it - splits.begin(), p.n_gpus - 1);
    dev[il] = static_cast<int>(g) + 1;
  }
  return dev;
}

namespace {

// MLA with the absorption optimization (llama.cpp src/models/deepseek2.cpp,
// llm_graph_context::build_attn_mha with v_mla), in f32 values per token,
// as ggml-alloc lays it out (traced with an instrumented ggml-alloc.c of the
// bundled llama.cpp on the deepseek-v2-lite rows of docs/estimate-accuracy.md):
//  - the residual stream does not sit at the bottom of the buffer: each
//    layer's output is the in-place sum of the routed experts
//    (build_moe_ffn), allocated while the down projections of the n_used
//    experts (ffn_moe_down, n_used x E), the layer input, the residual copy
//    and the normed input (3E; the normed input stays alive for the shared
//    expert that runs after the routed ones) and the router's n_expert-wide
//    tensors are alive; it lands above them and the following layers and the
//    output build on top of it: R = (3 + n_used) E + 3 n_expert (3E without
//    experts);
//  - attention above the residual: the absorbed Q path alive at the concat,
//    q (n_head x d_k_mla) and q_nope x wk_b (n_head x kv_lora_rank) and q_pe,
//    bounded by 2 x Qcur (n_head x (kv_lora_rank + rope)), + Kcur and the
//    normed latent (2 x (kv_lora_rank + rope)); with flash attention its
//    output (n_head x kv_lora_rank) and the V decompression by wv_b
//    (n_head x value_length_mla); without it the f32 KQ scores and the mask;
//  - output: the logits above the residual: R + E + n_vocab.
uint64_t mla_per_token_bytes(const ModelCosts &c, uint64_t n_head, bool flash_attn, uint64_t out,
                             uint64_t ffn, uint64_t kq_bytes, uint64_t mask_bytes,
                             uint64_t layer_extra) {
  const uint64_t e = c.n_embd;
  uint64_t d_k = 0;
  for (const auto &L : c.layers) d_k = std::max<uint64_t>(d_k, L.d_k);
  const uint64_t residual_at = c.n_expert > 0
                                   ? (3 + uint64_t{c.n_expert_used}) * e + 3 * uint64_t{c.n_expert}
                                   : 3 * e;
  const uint64_t q_cur = n_head * d_k;
  const uint64_t attn = residual_at + e + 2 * q_cur + 2 * d_k +
                        (flash_attn ? n_head * (c.mla_kv_rank + c.mla_v_head) : 0) + 8 +
                        layer_extra;
  const uint64_t out_mla = c.has_logits ? std::max(out, residual_at + e + c.n_vocab + 8) : out;
  return std::max({4 * attn + kq_bytes + mask_bytes, 4 * ffn + mask_bytes, 4 * out_mla});
}

// Without flash attention build_attn_mha reads V (a view of the latent K
// cache, kv_lora_rank wide) through ggml_cont(ggml_transpose(v)): a copy of
// every stream's V, f16 (llama.cpp refuses a quantized V without flash
// attention), alive with the KQ scores.
uint64_t mla_context_bytes(const ModelCosts &c, uint64_t cells, uint32_t n_stream,
                           bool flash_attn) {
  if (flash_attn) return 0;
  return 2 * c.mla_kv_rank * cells * std::max<uint32_t>(n_stream, 1);
}

}  // namespace

uint64_t BestFitSim::alloc(uint64_t size) {
  size_t best = blocks_.size() - 1;
  uint64_t best_size = UINT64_MAX;
  for (size_t i = 0; i + 1 < blocks_.size(); ++i) {
    if (blocks_[i].size >= size && blocks_[i].size <= best_size) {
      best = i;
      best_size = blocks_[i].size;
    }
  }
  Block &b = blocks_[best];
  const uint64_t at = b.offset;
  b.offset += size;
  if (best + 1 < blocks_.size()) {
    b.size -= size;
    if (b.size == 0) blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(best));
  }
  peak_ = std::max(peak_, at + size);
  return at;
}

void BestFitSim::free(uint64_t offset, uint64_t size) {
  if (size == 0) return;
  size_t i = 0;
  while (i < blocks_.size() && blocks_[i].offset < offset) ++i;
  const bool merge_prev = i > 0 && blocks_[i - 1].offset + blocks_[i - 1].size == offset;
  const bool merge_next = i < blocks_.size() && offset + size == blocks_[i].offset;
  if (merge_prev && merge_next) {
    blocks_[i - 1].size = blocks_[i].size == UINT64_MAX ? UINT64_MAX
                                                         : blocks_[i - 1].size + size + blocks_[i].size;
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
  } else if (merge_prev) {
    blocks_[i - 1].size += size;
  } else if (merge_next) {
    blocks_[i].offset = offset;
    if (blocks_[i].size != UINT64_MAX) blocks_[i].size += size;
  } else {
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(i), Block{offset, size});
  }
}

// The layers of a KV-memory LM graph with flash attention, replayed on
// BestFitSim in graph order (traced with estimate_alloc_trace.mjs: glm4.5-air
// at 64k, llama3.1-8b at 96k). Inputs first: inp_embd (E, never freed: no
// consumer when tokens are given), positions and KV indices (about a float per
// token), the KQ masks, the output ids. Each layer: the normed input (E; its
// parent, the residual, has another consumer, so not in place), Q, Q roped, V,
// K, K roped, the attention output (n_head x d_v), its projection (E), the
// residual sum in place; the last layer selects its output rows first
// (get_rows of the projection and of the residual, E each) and frees the masks
// after its attention. FFN: the normed input (E; alive until the last
// projection reading it: the shared expert's, or up); a MoE router (logits,
// in place probabilities, a biased copy, their argsort: n_expert each, the
// selected weights); gate and up (n_used x F each), the activation, gate and
// up freed; the down projection (n_used x E, or E), the activation freed; a
// MoE sum of the routed outputs (E), the down output freed; the shared expert
// (gate, up, activation: F_sh each; output E); the layer output in place. The
// output norm is in place on it (RMS_NORM is one of ggml_op_can_inplace's
// ops), and the logits go where the best fit puts them.
namespace {
uint64_t layers_peak_floats_n(const ModelCosts &c, uint64_t mask_full, uint64_t mask_swa,
                              uint32_t n_sim) {
  const uint64_t e = c.n_embd;
  BestFitSim a;
  a.alloc(e);  // inp_embd
  const uint64_t pos = a.alloc(1), idx = a.alloc(4);
  const uint64_t mask_s = mask_swa > 0 ? a.alloc(mask_swa) : 0;
  const uint64_t mask = a.alloc(mask_full);
  const uint64_t out_ids = a.alloc(1);
  uint64_t resid = a.alloc(e);  // the first layer's input rows
  const bool moe = c.n_expert > 0;
  const uint64_t n_used = moe ? std::max<uint64_t>(c.n_expert_used, 1) : 1;
  const uint64_t act_w = c.n_ff_active;
  const uint64_t n_exp = c.n_expert;
  const uint64_t kv_half = c.kv_dim / 2;
  for (uint32_t l = 0; l < n_sim; ++l) {
    const bool last = l + 1 == n_sim;
    // The last layer attends to the whole context: the sliding-window (or
    // chunked) mask was freed after the last layer that used it.
    if (last) a.free(mask_s, mask_swa);
    const uint64_t norm = a.alloc(e);
    const uint64_t q = a.alloc(c.q_dim + c.q_gate);
    const uint64_t qr = a.alloc(c.q_dim);
    a.free(q, c.q_dim + c.q_gate);
    const uint64_t v = a.alloc(kv_half), k = a.alloc(kv_half);
    a.free(norm, e);
    const uint64_t kr = a.alloc(kv_half);
    a.free(k, kv_half);
    if (last) a.free(pos, 1);
    a.free(kr, kv_half);
    a.free(v, kv_half);
    if (last) a.free(idx, 4);
    const uint64_t fa = a.alloc(c.q_dim);
    a.free(qr, c.q_dim);
    if (last) a.free(mask, mask_full);
    const uint64_t proj = a.alloc(e);
    a.free(fa, c.q_dim);
    uint64_t inp = proj;
    if (last) {
      inp = a.alloc(e);
      a.free(proj, e);
      const uint64_t g = a.alloc(e);
      a.free(resid, e);
      a.free(out_ids, 1);
      a.free(g, e);
    } else {
      a.free(resid, e);
    }
    const uint64_t fnorm = a.alloc(e);
    uint64_t argsort = 0, weights = 0;
    if (moe) {
      const uint64_t probs = a.alloc(n_exp);
      uint64_t biased = 0;
      if (c.expert_bias) biased = a.alloc(n_exp);
      argsort = a.alloc(n_exp);
      if (c.expert_bias) a.free(biased, n_exp);
      weights = a.alloc(n_used);
      a.free(probs, n_exp);
    }
    const bool norm_kept = moe && c.n_ff_shared > 0;
    uint64_t act = 0;
    if (c.ffn_gated) {
      const uint64_t gate = a.alloc(act_w), up = a.alloc(act_w);
      if (!norm_kept) a.free(fnorm, e);
      act = a.alloc(act_w);
      a.free(gate, act_w);
      a.free(up, act_w);
    } else {
      act = a.alloc(act_w);
      if (!norm_kept) a.free(fnorm, e);
    }
    const uint64_t down_w = moe ? n_used * e : e;
    const uint64_t down = a.alloc(down_w);
    a.free(act, act_w);
    uint64_t out = down, out_w = down_w;
    if (moe) {
      a.free(argsort, n_exp);
      a.free(weights, n_used);
      // The sum of the routed outputs (an ADD of two views of the down
      // output, so not in place).
      if (n_used > 1) {
        out = a.alloc(e);
        out_w = e;
        a.free(down, down_w);
      }
      if (norm_kept) {
        const uint64_t f = c.n_ff_shared;
        const uint64_t g = a.alloc(f), u = a.alloc(f);
        a.free(fnorm, e);
        const uint64_t sa = a.alloc(f);
        a.free(g, f);
        a.free(u, f);
        const uint64_t so = a.alloc(e);
        a.free(sa, f);
        a.free(so, e);
      }
    }
    a.free(inp, e);
    // The layer output is `out` (the in-place sums); only an E of it matters.
    if (out_w > e) {
      a.free(out + e, out_w - e);
    }
    resid = out;
  }
  a.alloc(c.n_vocab + 8);  // the logits (output norm in place)
  return a.peak();
}
}  // namespace

uint64_t layers_peak_floats(const ModelCosts &c, uint64_t mask_full, uint64_t mask_swa) {
  // The holes settle after a few layers; the last one is replayed as such.
  return layers_peak_floats_n(c, mask_full, mask_swa, std::min<uint32_t>(c.n_layer(), 4));
}

// Compute buffer of one device: ggml-alloc's peak while the worst-case
// prompt graph (n_tokens = the micro-batch, every KV cell visible) runs.
// The graph is a chain; ggml-alloc frees each activation after its last use,
// so the peak is the widest point, in f32 values per token:
//   attention: the residual and normed input (2E), the widest of the residual
//              copy and the K+V projections (max(E, Kd + Vd)), Q before and
//              after RoPE (2Q), K+V with RoPE (Kd + Vd), a fused output gate,
//              Q rotated by the Hadamard matrix when the K cache is quantized
//              (llama-kv-cache.cpp attn_rot_k), + 8 small tensors; without
//              flash attention the f32 KQ scores (n_head x visible cells);
//   FFN:       residual, normed input, output (3E) + gate, up and activation
//              (3 F_active; MoE: n_used x expert width, + 3 router values per
//              expert; an ungated MLP: up only, 1 F) + 8;
//   output:    residual, normed and selected rows (3E) + logits (n_vocab) + 8,
//              plus E for where ggml-alloc places the logits among the last
//              layer's freed blocks (measured: 2E-4.5E besides the logits at
//              real sizes); pooling models keep 2E + 8;
//   post-norm architectures (gemma2/3) keep one more E-wide tensor alive in
//   the layers, and gemma3n its per-layer inputs and AltUp streams.
// The KQ masks (one per KV cache, f32 without and f16 with flash attention)
// are graph inputs that ggml-alloc frees after the last layer's attention, so
// they count in the layer phases and not in the output phase: with flash
// attention at a large vocabulary the logits, not the context, set the peak.
// MLA models (deepseek2) follow their own layout (mla_per_token_bytes). The
// holes named below (a narrow mask under the logits, the rotated Q under the
// FFN, the residual over the routed experts, the kept hidden state above the
// mask) were read from a trace of ggml-alloc.c's allocations in the bundled
// llama.cpp (tests/node/estimate_alloc_trace.mjs). Checked as an upper
// bound against llama.cpp's own no_alloc figures (CPU backend) for 20 model
// families at real size (tests/estimate_accuracy.cmake,
// docs/estimate-accuracy.md).
uint64_t compute_buffer_bytes(const ModelCosts &c, uint32_t n_tokens, uint64_t cells_full,
                              uint64_t cells_swa, bool flash_attn, bool rotated_kv,
                              uint32_t n_stream) {
  const uint64_t e = c.n_embd;
  // Allocator slack: ggml-alloc's greedy best-fit leaves holes between the
  // blocks it reuses; at real sizes the peak sat up to 0.51 E values per
  // token above the live tensors counted below (llama4, glm4moe, qwen3next);
  // encoders' graphs (no KV memory) did not need it.
  const uint64_t slack = c.has_memory ? e / 2 + e / 64 : 0;
  const uint64_t layer_extra = (c.post_norms ? e : 0) + c.persistent + slack;
  uint64_t n_head = 0, kv_width = 0;
  for (const auto &L : c.layers) {
    n_head = std::max<uint64_t>(n_head, L.n_head);
    kv_width = std::max<uint64_t>(kv_width, uint64_t{L.n_head_kv} * (L.d_k + L.d_v));
  }
  const uint64_t attn_rot = rotated_kv ? c.q_dim : 0;
  // An encoder with learned positions (bert) has no RoPE copies: its
  // attention holds the residual and input (2E), Q, K and V (Q + Kd + Vd),
  // flash attention's f16 casts of the f32 K and V (llm_graph_context::
  // build_attn_mha: no KV cache to read them from, half of Kd + Vd) and the
  // output (Q); traced in ggml-alloc (bge-m3), its FFN (3E + F + the mask)
  // is the peak.
  const uint64_t attn =
      !c.has_memory && c.learned_positions
          ? 2 * e + 2 * c.q_dim + kv_width + kv_width / 2 + c.q_gate + 8 + layer_extra
          : 2 * e + std::max(e, kv_width) + 2 * c.q_dim + kv_width + c.q_gate + attn_rot + 8 +
                layer_extra;
  // The FFN phase also carries the KQ mask: at long contexts with flash
  // attention it is the peak, and there it sat up to 0.8 E above the counted
  // tensors (mistral-small 3.2 at 128k): a whole E of slack, not half. With a
  // quantized K the Hadamard-rotated Q's block stays a hole under the FFN's
  // F-wide tensors, which do not fit in it (mistral-small 3.2 at 128k: the
  // gate sat above 2.6 E of freed Q, Q-roped and Q-rotated, traced in
  // ggml-alloc).
  // A MoE layer's routed down projections (build_moe_ffn's ffn_moe_down,
  // n_used x E, summed after) are allocated while the activation is alive and
  // gate and up are freed: wider than their 2 F block, they go above it
  // (qwen3next at 256k: the FFN of every layer peaks at the mask + 21.5 E,
  // of which 10 E of down, traced with estimate_alloc_trace.mjs). Under them
  // lies the whole layer's fragmentation, which the slack above does not
  // cover there: the unused embeddings input (inp_embd, E: a graph input
  // that has no consumer when tokens are given, so ggml-alloc never frees
  // it) at the bottom, and the freed normed input's block (E) below the
  // router (qwen3moe at 256k: inp_embd, a 1 E hole, the router's 2 E, the
  // residual, 2 F freed, F, 8 E of down above the mask; 5 E + 3 F + 8 E).
  const uint64_t moe_down = uint64_t{c.n_expert_used} * e;
  const uint64_t moe_down_above =
      c.n_expert > 0 && moe_down > (c.ffn_gated ? 2 : 0) * c.n_ff_active ? moe_down + e : 0;
  const uint64_t ffn = 3 * e + (c.ffn_gated ? 3 : 1) * c.n_ff_active + 3 * uint64_t{c.n_expert} +
                       8 + layer_extra + (c.has_memory ? e / 2 : 0) + attn_rot + moe_down_above;
  // Without KV memory (encoders) attention spans the micro-batch itself.
  if (!c.has_memory) cells_full = n_tokens;
  const uint64_t cells_max = std::max(cells_full, cells_swa);
  const uint64_t kq_bytes = flash_attn ? 0 : 4 * n_head * cells_max;
  const uint64_t mask_bytes = (flash_attn ? 2 : 4) * (cells_full + cells_swa);
  // Output: the last layer's get_rows copies of the attention output and the
  // residual are allocated while the KQ mask's block (freed after the last
  // attention) lies below them; a mask narrower than E per token cannot take
  // an E-wide copy, stays a hole, and the logits start above it (phi3.5 at
  // 4096 with flash attention: 4E + the 2048-value f16 mask, traced in
  // ggml-alloc). A mask of E or more per token takes the copy instead.
  const uint64_t mask_floats = mask_bytes / 4;
  const uint64_t out_hole = mask_floats < e ? std::max(slack, mask_floats) : slack;
  const uint64_t out =
      c.has_logits ? 4 * e + c.n_vocab + 8 + (c.has_memory ? out_hole : 0) : 2 * e + 8 + slack;
  // A graph that keeps its final hidden state (h_nextn) as an output holds it
  // under the logits, so where ggml-alloc put the last layer's sum sets where
  // the logits start. The KQ mask (an input, allocated above inp_embd) is
  // freed after the last attention while its output lands in the E-wide
  // block just above the mask. The last FFN then fills the mask's block from
  // the bottom: normed input (E), router (probabilities and their argsort, 2
  // n_expert), gate, up and activation (3 F), and
  // the routed experts' down output (n_used E) where it fits. The sum (E)
  // takes ggml-alloc's best fit, the smallest free block of at least E, and
  // result_norm (E) lands next to it or lower (traced with
  // estimate_alloc_trace.mjs, qwen3next at 32k, 96k and 128k):
  //  - the FFN does not fit in the mask's block (qwen3next at 4k and 32k with
  //    flash attention: 9 E against a 1 E and an 8 E f16 mask): the
  //    activation goes above the attention output, and the sum into the
  //    activation's freed block (F >= E) or, when that is narrower than E,
  //    on top of the down output. The logits start above inp_embd, the mask,
  //    the attention output and the sum;
  //  - the FFN and the down output fit, leaving a block of at least E above
  //    the down output that is narrower than the freed router + gate + up +
  //    activation block below it (qwen3next at 96k: 5 E against 8 E): the
  //    sum goes above the down output, result_norm above the sum;
  //  - otherwise the sum goes into the freed FFN block low in the mask's
  //    block and the logits start low (the case above). The block above the
  //    attention output is not a better fit there: the earlier layers' own
  //    down outputs (n_used E, wider than the freed FFN block for qwen3next)
  //    were placed above the mask.
  // With a quantized K cache the Hadamard matrices of llama-kv-cache.cpp
  // (build_input_k_rot: nrot x nrot f32, nrot the largest power of two
  // dividing the head size; build_input_v_rot: 64 x 64 f32, counted with K's
  // as an upper bound) are inputs allocated between inp_embd and the mask:
  // they are per graph, not per token.
  uint64_t out_bytes = 0;
  if (c.hidden_output && c.has_logits && c.has_memory && !c.is_mla) {
    const uint64_t n_used = std::max<uint64_t>(c.n_expert_used, 1);
    const uint64_t router = 2 * uint64_t{c.n_expert};  // the n_used weights fit in a freed block
    const uint64_t act = c.n_ff_active;
    const uint64_t ffn_block = e + router + (c.ffn_gated ? 3 : 1) * act;
    const uint64_t down = n_used * e;
    uint64_t start = 0;  // where the logits start, floats per token
    if (ffn_block > mask_floats) {
      const uint64_t above = act >= e ? 0 : act + down;
      start = e + mask_floats + e + above + e;
    } else if (mask_floats >= ffn_block + down + e &&
               mask_floats - ffn_block - down < ffn_block - e) {
      start = e + ffn_block + down + e + e;
    }
    if (start > 0) {
      uint64_t d_k = 0;
      for (const auto &L : c.layers) {
        if (L.has_kv) d_k = std::max<uint64_t>(d_k, L.d_k);
      }
      uint64_t rot_bytes = 0;
      if (rotated_kv && d_k > 0) {
        uint64_t nrot = 64;
        while (2 * nrot <= d_k && d_k % (2 * nrot) == 0) nrot *= 2;
        rot_bytes = pad(4 * nrot * nrot, kCpuAlignment) + pad(4 * 64 * 64, kCpuAlignment);
      }
      out_bytes = uint64_t{n_tokens} * 4 * (start + c.n_vocab + 8) + rot_bytes;
    }
  }
  if (c.is_mla) {
    return uint64_t{n_tokens} * mla_per_token_bytes(c, n_head, flash_attn, out, ffn, kq_bytes,
                                                    mask_bytes, layer_extra) +
           mla_context_bytes(c, cells_full, n_stream, flash_attn);
  }
  // The tail replayed on ggml-alloc's best fit: where the last layer's sum
  // lands decides where the logits start.
  const uint64_t tail = flash_attn && c.has_logits && c.has_memory && !c.is_mla
                            ? layers_peak_floats(c, 2 * cells_full / 4, 2 * cells_swa / 4) + layer_extra
                            : 0;
  const uint64_t per_token_bytes =
      std::max({4 * attn + kq_bytes + mask_bytes, 4 * ffn + mask_bytes, 4 * out, 4 * tail});
  return std::max(uint64_t{n_tokens} * per_token_bytes, out_bytes);
}

namespace {

// llama_context's sizing of the KV cache for one run.
struct ContextCells {
  uint64_t n_ctx = 0, n_ctx_req = 0;
  uint64_t cells_full = 0;  // per stream
  uint64_t cells_swa = 0;   // per stream, 0 when no sliding-window layer has KV
  uint32_t n_stream = 1;
  uint64_t n_ubatch = 0;
  bool any_full = false;
};

Status check_settings(const RunSettings &s) {
  if (s.parallel == 0) return make_error("--parallel must be at least 1");
  if (s.ctx_per_seq > UINT32_MAX) {
    return make_error("context " + std::to_string(s.ctx_per_seq) +
                      " is beyond what llama.cpp accepts");
  }
  if (s.ctx_per_seq == 0) return make_error("the context size must be at least 1 token");
  if (s.n_ubatch == 0 || s.n_batch == 0) return make_error("batch sizes must be at least 1");
  // llama.cpp's n_ctx is a uint32_t.
  if (s.parallel > 4096 || s.ctx_per_seq * s.parallel > UINT32_MAX) {
    return make_error("context " + std::to_string(s.ctx_per_seq) + " x " +
                      std::to_string(s.parallel) + " sequences is beyond what llama.cpp accepts");
  }
  auto tk = gguf::ggml_type_traits(s.type_k);
  auto tv = gguf::ggml_type_traits(s.type_v);
  if (!tk || !tv) return make_error("unknown KV cache type id");
  if (tv->quantized && !s.flash_attn) {
    return make_error(std::string("a quantized V cache (") + std::string(tv->name) +
                      ") needs flash attention: llama.cpp refuses it without -fa on");
  }
  return Ok{};
}

ContextCells size_context(const ModelCosts &c, const RunSettings &s) {
  ContextCells k;
  const uint64_t n_seq = s.parallel;
  // llama_context constructor: n_ctx padded to 256; without a unified cache
  // each sequence gets its own stream of PAD(n_ctx/n_seq, 256).
  k.n_ctx_req = s.ctx_per_seq * n_seq;
  k.n_ctx = pad(k.n_ctx_req, kCtxPad);
  k.cells_full = k.n_ctx;
  if (!s.kv_unified) {
    const uint64_t per_seq = pad(k.n_ctx / n_seq, kCtxPad);
    k.n_ctx = per_seq * n_seq;
    k.cells_full = per_seq;
    k.n_stream = static_cast<uint32_t>(n_seq);
  }
  // The micro-batch is clamped by the batch and by the requested context
  // (a 300-token context reserves a 300-token graph). Embedding and reranker
  // models (non-causal) process a whole sequence at once: llama.cpp requires
  // n_ubatch >= the input, so the graph spans the context (research §7).
  k.n_ubatch = c.causal ? std::min<uint64_t>({s.n_ubatch, s.n_batch, k.n_ctx_req})
                        : std::min<uint64_t>(k.n_ctx_req, s.ctx_per_seq);
  // Sliding-window cache (llama-kv-cache-iswa.cpp): PAD(min(kv_size,
  // n_swa * (unified ? n_seq : 1) + n_ubatch), 256), unless --swa-full.
  bool any_swa = false;
  for (const auto &L : c.layers) {
    if (!L.has_kv) continue;
    (L.swa ? any_swa : k.any_full) = true;
  }
  if (any_swa) {
    k.cells_swa =
        s.swa_full ? k.cells_full
                   : std::min<uint64_t>(
                         k.cells_full,
                         pad(uint64_t{c.sliding_window} * (s.kv_unified ? n_seq : 1) + k.n_ubatch,
                             kCtxPad));
  }
  return k;
}

// Weights, KV cache and recurrent state of every repeating layer on its device.
Status place_layers(const ModelCosts &c, const RunSettings &s, const Placement &p,
                    const ContextCells &k, MemoryEstimate &est) {
  // Without flash attention V is stored transposed and every layer's V row is
  // padded to the widest one (n_embd_v_gqa_max).
  uint64_t v_width_max = 0;
  for (const auto &L : c.layers) {
    if (L.has_kv) v_width_max = std::max<uint64_t>(v_width_max, uint64_t{L.n_head_kv} * L.d_v);
  }
  for (uint32_t il = 0; il < c.n_layer(); ++il) {
    const auto &L = c.layers[il];
    const int d = est.layer_device[il];
    DeviceMemory &dm = est.devices[d];
    dm.layers += 1;
    // Weights: the layer's tensors on its device, except expert tensors of
    // the first n_cpu_moe layers, which stay in host memory.
    if (d == 0) {
      dm.weights_bytes += L.weights_host;
    } else if (il < p.n_cpu_moe) {
      dm.weights_bytes += L.weights_gpu - L.experts_gpu;
      est.devices[0].weights_bytes += L.experts_host;
    } else {
      dm.weights_bytes += L.weights_gpu;
    }
    const int kv_dev = s.offload_kqv ? d : 0;
    if (L.has_kv) {
      const uint64_t cells = (L.swa ? k.cells_swa : k.cells_full) * k.n_stream;
      const uint64_t k_width = uint64_t{L.n_head_kv} * L.d_k;
      const uint64_t v_width = s.flash_attn ? uint64_t{L.n_head_kv} * L.d_v : v_width_max;
      auto k_row = gguf::ggml_row_bytes(s.type_k, k_width);
      auto v_row = c.is_mla ? std::optional<uint64_t>(0) : gguf::ggml_row_bytes(s.type_v, v_width);
      if (!k_row || !v_row) {
        const auto bad = gguf::ggml_type_traits(!k_row ? s.type_k : s.type_v);
        return make_error("KV cache type " + std::string(bad ? bad->name : "?") +
                          " needs rows that are a multiple of its block size; layer " +
                          std::to_string(il) + " has K width " + std::to_string(k_width) +
                          " and V width " + std::to_string(v_width) + "; use f16");
      }
      est.devices[kv_dev].kv_bytes += (*k_row + *v_row) * cells;
    }
    if (L.recurrent) {
      // Always f32, one state per sequence, independent of the context.
      est.devices[kv_dev].recurrent_bytes +=
          L.recurrent_floats * 4 * std::max<uint32_t>(s.parallel, 1);
    }
  }
  return Ok{};
}

// Input layer: token_embd always stays in host memory. Output layer: on the
// output device, plus a second token_embd copy there when the output is tied
// (on a GPU always; on the host when the CPU backend repacks it).
void place_input_output(const ModelCosts &c, MemoryEstimate &est) {
  DeviceMemory &host = est.devices[0];
  host.weights_bytes += c.token_embd_host + c.other_host;
  DeviceMemory &out_dev = est.devices[est.output_device];
  out_dev.holds_output = true;
  if (est.output_device == 0) {
    out_dev.weights_bytes += c.output_host + c.tied_output_host_repack;
  } else {
    out_dev.weights_bytes += c.output_gpu + (c.tied_output ? c.token_embd_gpu : 0);
  }
}

// Compute buffers: every device that runs layers or the output reserves the
// worst-case graph; multi-GPU pipelines and op_offload add to the GPUs'.
void place_compute(const ModelCosts &c, const RunSettings &s, const Placement &p,
                   const ContextCells &k, const GpuTraits &gpu, MemoryEstimate &est) {
  // llama-kv-cache.cpp: a quantized K cache with head sizes a multiple of 64
  // is read through a Hadamard rotation of Q.
  auto tk = gguf::ggml_type_traits(s.type_k);
  bool rotated = tk && tk->quantized, any_kv = false;
  for (const auto &L : c.layers) {
    any_kv = any_kv || L.has_kv;
    rotated = rotated && (!L.has_kv || L.d_k % 64 == 0);
  }
  rotated = rotated && any_kv;
  const uint64_t graph =
      compute_buffer_bytes(c, static_cast<uint32_t>(k.n_ubatch), k.any_full ? k.cells_full : 0,
                           k.cells_swa, s.flash_attn, rotated, k.n_stream);
  bool host_runs_layers = est.output_device == 0;
  uint64_t largest_host_matrix = 0;
  for (uint32_t il = 0; il < c.n_layer(); ++il) {
    if (est.layer_device[il] == 0) {
      host_runs_layers = true;
      largest_host_matrix = std::max(largest_host_matrix, c.layers[il].largest_matrix);
    } else if (il < p.n_cpu_moe) {
      largest_host_matrix = std::max(largest_host_matrix, c.layers[il].largest_matrix);
    }
  }
  int first_gpu_with_work = -1, gpus_with_work = 0;
  for (size_t d = 1; d < est.devices.size(); ++d) {
    DeviceMemory &dm = est.devices[d];
    if (dm.layers == 0 && !dm.holds_output) continue;
    if (first_gpu_with_work < 0) first_gpu_with_work = static_cast<int>(d);
    ++gpus_with_work;
    dm.compute_bytes = graph;
    dm.overhead_bytes = gpu.overhead_bytes;
  }
  // Pipeline parallelism (llama_context: more than one GPU, every layer and
  // the output offloaded, KV on the GPUs, no tensor overrides) keeps
  // GGML_SCHED_MAX_COPIES = 4 copies of each split's inputs so that
  // micro-batches overlap; the activation handed from one GPU to the next is
  // n_ubatch x n_embd f32. Charge the 3 extra copies to every GPU with work.
  const bool all_on_gpu = !host_runs_layers && p.n_cpu_moe == 0;
  if (gpus_with_work > 1 && all_on_gpu && s.offload_kqv) {
    for (size_t d = 1; d < est.devices.size(); ++d) {
      if (est.devices[d].compute_bytes > 0)
        est.devices[d].compute_bytes += 3 * k.n_ubatch * c.n_embd * 4;
    }
  }
  // op_offload: prompt-processing ops on host-resident weights run on the GPU,
  // which copies the weight into its compute buffer (research §2.4; Ollama's
  // partial-offload graph terms). Charge the largest such weight once.
  if (first_gpu_with_work > 0 && largest_host_matrix > 0) {
    est.devices[first_gpu_with_work].compute_bytes += largest_host_matrix;
  }
  DeviceMemory &host = est.devices[0];
  // Only the input embedding lookup runs on the host when everything else is
  // offloaded.
  host.compute_bytes =
      host_runs_layers || first_gpu_with_work < 0 ? graph : k.n_ubatch * (c.n_embd + 8) * 4;
  // Output (logits) buffer, host memory (llama_context::output_reserve):
  // n_vocab floats per output row, one row per sequence between prompts.
  host.output_bytes = c.n_vocab * 4 * std::max<uint32_t>(s.parallel, 1);
}

}  // namespace

Result<MemoryEstimate> estimate_memory_requirements(const ModelCosts &c, const RunSettings &s,
                                                    const Placement &p, const GpuTraits &gpu) {
  if (auto ok = check_settings(s); !ok) return ok.error();
  const uint32_t n_layer = c.n_layer();
  MemoryEstimate est;
  est.devices.resize(1 + p.n_gpus);
  for (uint32_t g = 0; g < p.n_gpus; ++g) {
    est.devices[1 + g].is_gpu = true;
    est.devices[1 + g].gpu_index = static_cast<int>(g);
  }
  est.layer_device = assign_layer_devices(n_layer, p);
  est.output_device = est.layer_device[n_layer];
  est.layer_device.resize(n_layer);

  const ContextCells k = size_context(c, s);
  est.n_ctx = k.n_ctx;
  est.n_ctx_seq = k.cells_full;
  est.n_stream = k.n_stream;
  est.n_ubatch = static_cast<uint32_t>(k.n_ubatch);
  est.kv_cells_full = k.any_full ? k.cells_full : 0;
  est.kv_cells_swa = k.cells_swa;

  if (auto ok = place_layers(c, s, p, k, est); !ok) return ok.error();
  place_input_output(c, est);
  place_compute(c, s, p, k, gpu, est);
  return est;
}

Result<MemoryEstimate> estimate_memory_requirements(const gguf::ModelInfo &model,
                                                    const RunSettings &settings,
                                                    const Placement &placement,
                                                    const GpuTraits &gpu) {
  auto costs = prepare_model_costs(model, gpu);
  if (!costs) return costs.error();
  return estimate_memory_requirements(*costs, settings, placement, gpu);
}

}  // namespace memopt::estimate

