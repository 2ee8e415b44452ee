#include "estimate/memory_estimate.h"

#include <algorithm>
#include <string>

#include "gguf/ggml_type.h"

namespace memopt::estimate {
namespace {

constexpr uint64_t kCtxPad = 256;   // llama.cpp pads n_ctx and KV sizes to 256 cells
constexpr uint32_t kMaxLayers = 100000;

uint64_t pad(uint64_t x, uint64_t n) { return (x + n - 1) / n * n; }

template <typename T>
T at_or(const std::vector<T>& v, size_t i, T fallback) {
  return i < v.size() ? v[i] : fallback;
}

bool has_suffix(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

// Bytes a tensor takes in a GPU buffer: ggml-cuda's get_alloc_size adds one
// padded row to quantized tensors whose rows are not a multiple of 512
// elements, then the buffer aligns every tensor.
uint64_t gpu_tensor_bytes(const gguf::TensorInfo& t, const GpuTraits& gpu) {
  uint64_t size = t.size_bytes;
  auto traits = gguf::ggml_type_traits(t.type);
  if (traits && traits->quantized && gpu.quantized_row_padding > 0 && !t.shape.empty()) {
    const uint64_t ne0 = t.shape[0];
    if (ne0 % gpu.quantized_row_padding != 0) {
      auto extra = gguf::ggml_row_bytes(t.type, gpu.quantized_row_padding - ne0 % gpu.quantized_row_padding);
      if (extra) size += *extra;
    }
  }
  return pad(size, std::max<uint64_t>(gpu.alignment, 1));
}

// Recurrent state per sequence in f32 elements (llama-hparams.cpp n_embd_r()
// + n_embd_s()): Mamba conv + SSM state, RWKV token shift + WKV state, LFM2
// short-convolution cache.
uint64_t recurrent_floats(const gguf::ModelInfo& m) {
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

}  // namespace

uint64_t MemoryEstimate::total_bytes() const {
  uint64_t t = 0;
  for (const auto& d : devices) t += d.total_bytes();
  return t;
}

uint64_t MemoryEstimate::gpu_bytes() const {
  uint64_t t = 0;
  for (const auto& d : devices) {
    if (d.is_gpu) t += d.total_bytes();
  }
  return t;
}

uint64_t MemoryEstimate::kv_total_bytes() const {
  uint64_t t = 0;
  for (const auto& d : devices) t += d.kv_bytes + d.recurrent_bytes;
  return t;
}

Result<ModelCosts> prepare_model_costs(const gguf::ModelInfo& m, const GpuTraits& gpu) {
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
  if (m.embedding_length > (1u << 24) || m.vocab_size > (1u << 26) ||
      m.key_length > (1u << 16) || m.value_length > (1u << 16) ||
      m.key_length_swa > (1u << 16) || m.value_length_swa > (1u << 16)) {
    return make_error(where + ": implausible dimensions (embedding " +
                      std::to_string(m.embedding_length) + ", vocabulary " +
                      std::to_string(m.vocab_size) + ", head size " + std::to_string(m.key_length) +
                      "); the file's metadata looks corrupt");
  }
  for (uint32_t h : m.head_count) {
    if (h > (1u << 16)) return make_error(where + ": implausible head_count " + std::to_string(h));
  }
  for (uint32_t h : m.head_count_kv) {
    if (h > (1u << 16)) return make_error(where + ": implausible head_count_kv " + std::to_string(h));
  }
  for (uint64_t f : m.feed_forward_length) {
    if (f > (1u << 24)) return make_error(where + ": implausible feed_forward_length " + std::to_string(f));
  }
  if (m.expert_count > 4096 || m.expert_feed_forward_length > (1u << 24) ||
      m.ssm_inner_size > (1u << 24) || m.ssm_state_size > (1u << 16) ||
      m.ssm_conv_kernel > 1024 || m.ssm_group_count > 4096 || m.wkv_head_size > (1u << 16) ||
      m.token_shift_count > 64 || m.shortconv_l_cache > 4096) {
    return make_error(where + ": implausible expert or recurrent-state dimensions; the file's "
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
  c.causal = m.causal;
  const uint32_t kv_layers =
      m.shared_kv_layers < n_layer ? n_layer - m.shared_kv_layers : n_layer;
  const uint64_t rec = recurrent_floats(m);
  uint64_t ff_max = 0;
  for (uint32_t il = 0; il < n_layer; ++il) {
    auto& L = c.layers[il];
    L.n_head = at_or<uint32_t>(m.head_count, il, m.head_count.empty() ? 0 : m.head_count.back());
    L.n_head_kv = at_or<uint32_t>(m.head_count_kv, il,
                                  m.head_count_kv.empty() ? L.n_head : m.head_count_kv.back());
    L.swa = at_or<bool>(m.swa_layers, il, false) && m.sliding_window > 0;
    L.recurrent = at_or<bool>(m.recurrent_layers, il, false);
    const uint32_t d_default = L.n_head > 0 ? static_cast<uint32_t>(m.embedding_length / L.n_head) : 0;
    uint32_t dk = m.key_length ? m.key_length : d_default;
    uint32_t dv = m.value_length ? m.value_length : d_default;
    if (L.swa) {
      if (m.key_length_swa) dk = m.key_length_swa;
      if (m.value_length_swa) dv = m.value_length_swa;
    }
    L.d_k = dk;
    L.d_v = c.is_mla ? 0 : dv;  // MLA caches K only; V is a view of it
    L.has_kv = !L.recurrent && L.n_head_kv > 0 && il < kv_layers;
    L.recurrent_floats = L.recurrent ? rec : 0;
    c.q_dim = std::max<uint64_t>(c.q_dim, uint64_t{L.n_head} * dk);
    c.kv_dim = std::max<uint64_t>(c.kv_dim, uint64_t{L.n_head_kv} * (dk + dv));
    ff_max = std::max<uint64_t>(ff_max, at_or<uint64_t>(m.feed_forward_length, il, 0));
  }
  c.n_ff_active = m.expert_count > 0
                      ? uint64_t{std::max<uint32_t>(m.expert_used_count, 1)} *
                            (m.expert_feed_forward_length ? m.expert_feed_forward_length : ff_max)
                      : ff_max;

  bool has_output = false;
  for (const auto& t : m.tensors) {
    const uint64_t host = pad(t.size_bytes, kCpuAlignment);
    const uint64_t dev = gpu_tensor_bytes(t, gpu);
    if (t.layer >= 0) {
      if (static_cast<uint32_t>(t.layer) >= n_layer) {
        return make_error(where + ": tensor " + t.name + " belongs to layer " +
                          std::to_string(t.layer) + " but block_count is " +
                          std::to_string(n_layer));
      }
      auto& L = c.layers[t.layer];
      L.weights_host += host;
      L.weights_gpu += dev;
      if (t.name.find("_exps") != std::string::npos) {
        L.experts_host += host;
        L.experts_gpu += dev;
      }
      if (t.shape.size() >= 2) L.largest_matrix = std::max(L.largest_matrix, t.size_bytes);
      if (t.name.find("post_attention_norm") != std::string::npos ||
          t.name.find("post_ffw_norm") != std::string::npos) {
        c.post_norms = true;
      }
    } else if (t.name == "token_embd.weight") {
      c.token_embd_host = host;
      c.token_embd_gpu = dev;
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
  uint64_t params = m.parameter_count, bytes = m.weight_bytes;
  if (params == 0) {
    for (const auto& t : m.tensors) {
      uint64_t n = 1;
      for (uint64_t d : t.shape) n *= d;
      params += n;
      bytes += t.size_bytes;
    }
  }
  if (params > 0) c.bits_per_weight = static_cast<double>(bytes) * 8.0 / static_cast<double>(params);
  return c;
}

std::vector<int> assign_layer_devices(uint32_t n_layer, const Placement& p) {
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
  for (float& s : splits) {
    acc += s;
    s = acc;
  }
  for (float& s : splits) s /= acc;
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

// Compute buffer of one device: ggml-alloc's peak while the worst-case
// prompt graph (n_tokens = the micro-batch, every KV cell visible) runs.
// The graph is a chain; ggml-alloc frees each activation after its last use,
// so the peak is the widest point, measured in f32 values per token:
//   attention: residual + normed input (2E), Q before/after RoPE (2Q),
//              K and V with their RoPE copy (2(Kd + Vd)), + 8 small tensors;
//   FFN:       residual, normed input, output (3E) + gate, up and activation
//              (3 F_active; MoE: n_used x expert width, + 3 router values per
//              expert) + 8;
//   output:    residual and normed input (2E) + logits (n_vocab) + 8;
//   post-norm architectures (gemma2/3) keep one more E-wide tensor alive.
// The attention phase adds what scales with the visible cells: without flash
// attention the f32 KQ scores (n_head x cells); with it nothing (the scores
// stay inside the fused kernel). Every phase carries the KQ masks, one per KV
// cache (full and sliding-window), f32 without and f16 with flash attention.
// Fitted as an upper bound against llama.cpp's own no_alloc figures (CPU
// backend; tests/estimate_accuracy.cmake asserts 0..+15%); the cell terms
// match llama.cpp exactly. Same shape as research §8's rules of thumb.
uint64_t compute_buffer_bytes(const ModelCosts& c, uint32_t n_tokens, uint64_t cells_full,
                              uint64_t cells_swa, bool flash_attn) {
  const uint64_t e = c.n_embd;
  const uint64_t post = c.post_norms ? e : 0;
  uint64_t n_head = 0, kv_width = 0;
  for (const auto& L : c.layers) {
    n_head = std::max<uint64_t>(n_head, L.n_head);
    kv_width = std::max<uint64_t>(kv_width, uint64_t{L.n_head_kv} * (L.d_k + L.d_v));
  }
  const uint64_t attn = 2 * e + 2 * c.q_dim + 2 * kv_width + 8 + post;
  const uint64_t ffn = 3 * e + 3 * c.n_ff_active + 3 * uint64_t{c.n_expert} + 8 + post;
  const uint64_t out = 2 * e + c.n_vocab + 8;
  // The KQ scores live only during attention; the masks are graph inputs and
  // stay allocated for the whole graph.
  const uint64_t cells_max = std::max(cells_full, cells_swa);
  const uint64_t kq_bytes = flash_attn ? 0 : 4 * n_head * cells_max;
  const uint64_t mask_bytes = (flash_attn ? 2 : 4) * (cells_full + cells_swa);
  const uint64_t per_token_bytes = std::max({4 * attn + kq_bytes, 4 * ffn, 4 * out}) + mask_bytes;
  return uint64_t{n_tokens} * per_token_bytes;
}

Result<MemoryEstimate> estimate_memory_requirements(const ModelCosts& c, const RunSettings& s,
                                                    const Placement& p, const GpuTraits& gpu) {
  if (s.parallel == 0) return make_error("--parallel must be at least 1");
  if (s.ctx_per_seq > UINT32_MAX) {
    return make_error("context " + std::to_string(s.ctx_per_seq) + " is beyond what llama.cpp accepts");
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
  const uint32_t n_layer = c.n_layer();
  const uint32_t n_seq = s.parallel;
  MemoryEstimate est;
  est.devices.resize(1 + p.n_gpus);
  for (uint32_t g = 0; g < p.n_gpus; ++g) {
    est.devices[1 + g].is_gpu = true;
    est.devices[1 + g].gpu_index = static_cast<int>(g);
  }
  est.layer_device = assign_layer_devices(n_layer, p);
  est.output_device = est.layer_device[n_layer];
  est.layer_device.resize(n_layer);

  // Context sizing (llama_context constructor): n_ctx padded to 256; without
  // a unified cache each sequence gets its own stream of PAD(n_ctx/n_seq, 256).
  const uint64_t n_ctx_req = s.ctx_per_seq * n_seq;
  uint64_t n_ctx = pad(n_ctx_req, kCtxPad);
  uint64_t cells_full = n_ctx;
  est.n_stream = 1;
  if (!s.kv_unified) {
    const uint64_t per_seq = pad(n_ctx / n_seq, kCtxPad);
    n_ctx = per_seq * n_seq;
    cells_full = per_seq;
    est.n_stream = n_seq;
  }
  est.n_ctx = n_ctx;
  est.n_ctx_seq = cells_full;
  // The micro-batch is clamped by the batch and by the requested context
  // (a 300-token context reserves a 300-token graph). Embedding and reranker
  // models (non-causal) process a whole sequence at once: llama.cpp requires
  // n_ubatch >= the input, so the graph spans the context (research §7).
  const uint64_t n_ubatch = c.causal ? std::min<uint64_t>({s.n_ubatch, s.n_batch, n_ctx_req})
                                     : std::min<uint64_t>(n_ctx_req, s.ctx_per_seq);
  est.n_ubatch = static_cast<uint32_t>(n_ubatch);
  // Sliding-window cache (llama-kv-cache-iswa.cpp): PAD(min(kv_size,
  // n_swa * (unified ? n_seq : 1) + n_ubatch), 256), unless --swa-full.
  bool any_swa = false, any_full = false;
  for (const auto& L : c.layers) {
    if (!L.has_kv) continue;
    (L.swa ? any_swa : any_full) = true;
  }
  uint64_t cells_swa = 0;
  if (any_swa) {
    cells_swa = s.swa_full ? cells_full
                           : std::min<uint64_t>(cells_full,
                                                pad(uint64_t{c.sliding_window} *
                                                            (s.kv_unified ? n_seq : 1) +
                                                        n_ubatch,
                                                    kCtxPad));
  }
  est.kv_cells_full = any_full ? cells_full : 0;
  est.kv_cells_swa = cells_swa;

  // Without flash attention V is stored transposed and every layer's V row is
  // padded to the widest one (n_embd_v_gqa_max).
  uint64_t v_width_max = 0;
  for (const auto& L : c.layers) {
    if (L.has_kv) v_width_max = std::max<uint64_t>(v_width_max, uint64_t{L.n_head_kv} * L.d_v);
  }

  for (uint32_t il = 0; il < n_layer; ++il) {
    const auto& L = c.layers[il];
    const int d = est.layer_device[il];
    DeviceMemory& dm = est.devices[d];
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
      const uint64_t cells = (L.swa ? cells_swa : cells_full) * est.n_stream;
      const uint64_t k_width = uint64_t{L.n_head_kv} * L.d_k;
      const uint64_t v_width = s.flash_attn ? uint64_t{L.n_head_kv} * L.d_v : v_width_max;
      auto k_row = gguf::ggml_row_bytes(s.type_k, k_width);
      auto v_row = c.is_mla ? std::optional<uint64_t>(0) : gguf::ggml_row_bytes(s.type_v, v_width);
      if (!k_row || !v_row) {
        return make_error("KV cache type " + std::string(!k_row ? tk->name : tv->name) +
                          " needs rows that are a multiple of its block size; layer " +
                          std::to_string(il) + " has K width " + std::to_string(k_width) +
                          " and V width " + std::to_string(v_width) + "; use f16");
      }
      est.devices[kv_dev].kv_bytes += (*k_row + *v_row) * cells;
    }
    if (L.recurrent) {
      // Always f32, one state per sequence, independent of the context.
      est.devices[kv_dev].recurrent_bytes += L.recurrent_floats * 4 * std::max<uint32_t>(n_seq, 1);
    }
  }
  // Input layer: token_embd always stays in host memory. Output layer: on the
  // output device, plus a second token_embd copy there when the output is tied.
  DeviceMemory& host = est.devices[0];
  host.weights_bytes += c.token_embd_host + c.other_host;
  DeviceMemory& out_dev = est.devices[est.output_device];
  out_dev.holds_output = true;
  if (est.output_device == 0) {
    out_dev.weights_bytes += c.output_host;
  } else {
    out_dev.weights_bytes += c.output_gpu + (c.tied_output ? c.token_embd_gpu : 0);
  }

  // Compute buffers: every device that runs layers or the output reserves
  // the worst-case graph (upper bound: its widest point is the same).
  const uint64_t graph = compute_buffer_bytes(c, static_cast<uint32_t>(n_ubatch),
                                              any_full ? cells_full : 0, cells_swa, s.flash_attn);
  bool host_runs_layers = est.output_device == 0;
  uint64_t largest_host_matrix = 0;
  for (uint32_t il = 0; il < n_layer; ++il) {
    if (est.layer_device[il] == 0) {
      host_runs_layers = true;
      largest_host_matrix = std::max(largest_host_matrix, c.layers[il].largest_matrix);
    } else if (il < p.n_cpu_moe) {
      largest_host_matrix = std::max(largest_host_matrix, c.layers[il].largest_matrix);
    }
  }
  int first_gpu_with_work = -1;
  for (size_t d = 1; d < est.devices.size(); ++d) {
    DeviceMemory& dm = est.devices[d];
    if (dm.layers == 0 && !dm.holds_output) continue;
    if (first_gpu_with_work < 0) first_gpu_with_work = static_cast<int>(d);
    dm.compute_bytes = graph;
    dm.overhead_bytes = gpu.overhead_bytes;
  }
  // Pipeline parallelism (llama_context: more than one GPU, every layer and
  // the output offloaded, KV on the GPUs, no tensor overrides) keeps
  // GGML_SCHED_MAX_COPIES = 4 copies of each split's inputs so that
  // micro-batches overlap; the activation handed from one GPU to the next is
  // n_ubatch x n_embd f32. Charge the 3 extra copies to every GPU with work.
  int gpus_with_work = 0;
  for (size_t d = 1; d < est.devices.size(); ++d) {
    gpus_with_work += (est.devices[d].layers > 0 || est.devices[d].holds_output) ? 1 : 0;
  }
  const bool all_on_gpu = !host_runs_layers && p.n_cpu_moe == 0;
  if (gpus_with_work > 1 && all_on_gpu && s.offload_kqv) {
    for (size_t d = 1; d < est.devices.size(); ++d) {
      if (est.devices[d].compute_bytes > 0) est.devices[d].compute_bytes += 3 * n_ubatch * c.n_embd * 4;
    }
  }
  // op_offload: prompt-processing ops on host-resident weights run on the GPU,
  // which copies the weight into its compute buffer (research §2.4; Ollama's
  // partial-offload graph terms). Charge the largest such weight once.
  if (first_gpu_with_work > 0 && largest_host_matrix > 0) {
    est.devices[first_gpu_with_work].compute_bytes += largest_host_matrix;
  }
  if (host_runs_layers || first_gpu_with_work < 0) {
    host.compute_bytes = graph;
  } else {
    // Only the input embedding lookup runs on the host.
    host.compute_bytes = n_ubatch * (c.n_embd + 8) * 4;
  }
  // Output (logits) buffer, host memory (llama_context::output_reserve):
  // n_vocab floats per output row, one row per sequence between prompts.
  host.output_bytes = c.n_vocab * 4 * std::max<uint32_t>(n_seq, 1);
  return est;
}

Result<MemoryEstimate> estimate_memory_requirements(const gguf::ModelInfo& model,
                                                    const RunSettings& settings,
                                                    const Placement& placement,
                                                    const GpuTraits& gpu) {
  auto costs = prepare_model_costs(model, gpu);
  if (!costs) return costs.error();
  return estimate_memory_requirements(*costs, settings, placement, gpu);
}

}  // namespace memopt::estimate
