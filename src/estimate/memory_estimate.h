#pragma once
// The memory estimator (`estimate_memory_requirements`): how many bytes a GGUF
// model needs on each device for given run settings and layer placement, by
// kind (weights, KV cache, recurrent state, compute buffers, output buffer,
// per-GPU runtime overhead). Pure: values in, values out.
//
// Weights and KV cache follow llama.cpp's allocation rules exactly
// (src/llama-model.cpp load_tensors, src/llama-kv-cache*.cpp, ggml-alloc.c);
// compute buffers are an upper-bound model of ggml-alloc's peak, checked
// against the real llama.cpp by tests/estimate_accuracy.cmake. Each formula
// in memory_estimate.cc names the ggml-org/llama.cpp or ggml function it
// follows.
#include <cstdint>
#include <string>
#include <vector>

#include "gguf/model_info.h"
#include "util/result.h"

namespace memopt::estimate {

// How the model is run (llama.cpp context parameters).
struct RunSettings {
  uint64_t ctx_per_seq = 4096;  // context per sequence, as a user asks for it
  uint32_t parallel = 1;        // sequences (llama.cpp -np, Ollama num_parallel)
  uint32_t n_batch = 2048;      // llama.cpp -b
  uint32_t n_ubatch = 512;      // llama.cpp -ub
  uint32_t type_k = 1;          // ggml type id of the K cache (1 = f16)
  uint32_t type_v = 1;
  bool flash_attn = true;
  bool kv_unified = false;  // llama.cpp --kv-unified
  bool swa_full = false;    // llama.cpp --swa-full
  bool offload_kqv = true;  // KV of a GPU layer lives on that GPU (llama.cpp default)
};

// Allocation rules of a GPU backend.
struct GpuTraits {
  // ggml-cuda: buffers aligned to 128 bytes and quantized rows padded to a
  // multiple of 512 elements (MATRIX_ROW_PADDING in ggml-cuda get_alloc_size).
  uint64_t alignment = 128;
  uint64_t quantized_row_padding = 512;
  // Memory the runtime holds that no ggml buffer accounts for: CUDA context,
  // cuBLAS workspace, kernel images. llama.cpp PR #15860 measured 451-456 MiB
  // "unaccounted" per RTX 4090; Ollama reserves 457 MiB (ml/device.go
  // MinimumMemory). 512 MiB covers both; users override it (--gpu-overhead).
  uint64_t overhead_bytes = 512ULL << 20;
};

// Where the layers go, as llama.cpp's -ngl / -ts / --n-cpu-moe express it.
struct Placement {
  uint32_t n_gpu_layers = 0;         // the last N layers; block_count + 1 includes the output
  std::vector<double> tensor_split;  // per GPU proportions; empty = equal
  uint32_t n_gpus = 0;
  uint32_t n_cpu_moe = 0;  // expert tensors of the first N layers stay on the CPU
};

// One device's share. Device 0 is the host (CPU RAM), 1..n are the GPUs.
struct DeviceMemory {
  bool is_gpu = false;
  int gpu_index = -1;
  uint32_t layers = 0;  // repeating layers whose attention runs here
  bool holds_output = false;
  uint64_t weights_bytes = 0;
  uint64_t kv_bytes = 0;
  uint64_t recurrent_bytes = 0;
  uint64_t compute_bytes = 0;
  uint64_t output_bytes = 0;    // logits buffer (host)
  uint64_t overhead_bytes = 0;  // runtime overhead (GPUs)
  // Companions (estimate/companions.h): the speculative draft model's share
  // (weights, KV, compute) and the projector's (weights, compute).
  uint64_t draft_bytes = 0;
  uint64_t projector_bytes = 0;
  uint64_t total_bytes() const {
    return weights_bytes + kv_bytes + recurrent_bytes + compute_bytes + output_bytes +
           overhead_bytes + draft_bytes + projector_bytes;
  }
};

struct MemoryEstimate {
  std::vector<DeviceMemory> devices;  // [0] host, [1 + i] GPU i
  uint64_t n_ctx = 0;                 // total KV cells asked of llama.cpp (-c), padded
  uint64_t n_ctx_seq = 0;             // cells per stream
  uint32_t n_stream = 1;
  uint64_t kv_cells_full = 0;     // per stream, full-attention layers
  uint64_t kv_cells_swa = 0;      // per stream, sliding-window layers (0: none)
  uint32_t n_ubatch = 0;          // effective micro-batch (tokens in the worst-case graph)
  std::vector<int> layer_device;  // per layer: 0 host, 1 + i GPU i
  int output_device = 0;
  uint64_t total_bytes() const;
  uint64_t gpu_bytes() const;  // sum over GPUs
  uint64_t kv_total_bytes() const;
};

// Per-model quantities the estimator needs, computed once from the tensor
// table so that the planner's searches cost O(layers) per probe.
struct ModelCosts {
  struct Layer {
    uint64_t weights_host = 0,
             weights_gpu = 0;                    // all blk.N tensors, padded per backend
    uint64_t experts_host = 0, experts_gpu = 0;  // the *_exps subset
    uint64_t largest_matrix = 0;                 // for op_offload copies
    uint32_t n_head = 0, n_head_kv = 0;
    uint32_t d_k = 0, d_v = 0;
    bool swa = false, recurrent = false, has_kv = true;
    uint64_t recurrent_floats = 0;  // n_embd_r + n_embd_s per sequence
  };
  std::vector<Layer> layers;
  uint64_t token_embd_host = 0, token_embd_gpu = 0;
  uint64_t output_host = 0,
           output_gpu = 0;  // output.weight + output_norm (+ duplicate)
  bool tied_output = false;
  uint64_t other_host = 0;
  uint64_t n_embd = 0, n_vocab = 0, n_ff_active = 0, q_dim = 0, kv_dim = 0;
  uint32_t n_expert = 0;
  uint32_t n_ctx_train = 0;
  uint32_t sliding_window = 0;
  bool post_norms = false;  // gemma2/3-style extra norms after attention and FFN
  bool is_mla = false;
  // MLA (deepseek2): the compressed KV width (kv_lora_rank) and the
  // decompressed V head size (value_length_mla) of llama.cpp's absorbed
  // attention graph (src/models/deepseek2.cpp).
  uint64_t mla_kv_rank = 0, mla_v_head = 0;
  uint32_t n_expert_used = 0;
  bool causal = true;
  // Learned absolute positions (bert's position_embd): no RoPE op copies Q
  // and K in the attention graph.
  bool learned_positions = false;
  // Encoder / embedding architectures (bert family, gemma-embedding, diffusion
  // LMs): llama.cpp creates no KV memory for them (llama_model::create_memory).
  bool has_memory = true;
  bool has_logits = true;   // false: the graph ends in pooling, not an LM head
  // The graph keeps the last layer's output (the final hidden state, normed in
  // place) as a graph output for the next-token (MTP) head: llama.cpp's
  // t_h_nextn (src/models/qwen3next.cpp), so it stays alive under the logits.
  bool hidden_output = false;
  bool ffn_gated = true;    // gate + up (SwiGLU/GeGLU); false: up only (bert's GELU MLP)
  uint64_t n_ff_shared = 0;  // shared expert width beside the routed ones (0: none)
  bool expert_bias = false;  // a router bias (exp_probs_b): one more n_expert copy
  uint64_t q_gate = 0;      // attention-output gate fused into Q (qwen3next), floats/token
  uint64_t persistent = 0;  // floats/token alive through every layer (gemma3n
                            // per-layer inputs and AltUp streams)
  // A tied output on the host: the CPU backend repacks Q4_0/Q4_K/IQ4_NL/MXFP4
  // matrices for mul_mat (x86 AVX2, rows a multiple of 8) into its own
  // CPU_REPACK buffer, so the output becomes a second copy of token_embd there.
  uint64_t tied_output_host_repack = 0;
  double bits_per_weight = 0;  // weight bytes x 8 / parameters (0: unknown)
  uint32_t n_layer() const { return static_cast<uint32_t>(layers.size()); }
};

// Checks the ModelInfo for what the estimator relies on (block_count, per-layer
// vectors, tensor types) and precomputes the costs.
Result<ModelCosts> prepare_model_costs(const gguf::ModelInfo &model, const GpuTraits &gpu);

Result<MemoryEstimate> estimate_memory_requirements(const ModelCosts &costs,
                                                    const RunSettings &settings,
                                                    const Placement &placement,
                                                    const GpuTraits &gpu);

// Convenience: prepare + estimate.
Result<MemoryEstimate> estimate_memory_requirements(const gguf::ModelInfo &model,
                                                    const RunSettings &settings,
                                                    const Placement &placement,
                                                    const GpuTraits &gpu = {});

// llama.cpp's layer -> device mapping (load_tensors): layer il in
// [0, n_layer] (n_layer is the output layer) -> 0 host or 1 + GPU index.
std::vector<int> assign_layer_devices(uint32_t n_layer, const Placement &placement);

// Compute-buffer model (documented in the .cc) for one device.
// n_stream: KV streams (one per sequence without a unified cache).
uint64_t compute_buffer_bytes(const ModelCosts &costs, uint32_t n_tokens, uint64_t cells_full,
                              uint64_t cells_swa, bool flash_attn, bool rotated_kv = false,
                              uint32_t n_stream = 1);

// ggml-alloc's dynamic allocator (ggml_dyn_tallocr_alloc/free_tensor in
// ggml-alloc.c), in abstract units: best fit among the free blocks except the
// last, ties to the later block; otherwise the last block, which grows the
// buffer; a freed range merges with its neighbours. peak() is the buffer size.
class BestFitSim {
 public:
  uint64_t alloc(uint64_t size);  // returns the offset
  void free(uint64_t offset, uint64_t size);
  uint64_t peak() const { return peak_; }

 private:
  struct Block {
    uint64_t offset, size;
  };
  std::vector<Block> blocks_{{0, UINT64_MAX}};  // sorted; the last is the open end
  uint64_t peak_ = 0;
};

// The layers and the output phase of a KV-memory LM graph with flash
// attention, replayed on BestFitSim in graph order (the .cc says which
// tensors); the peak in floats per token of the micro-batch. mask_floats: the
// KQ masks' floats per token (full and sliding-window).
uint64_t layers_peak_floats(const ModelCosts &costs, uint64_t mask_full, uint64_t mask_swa);

// Whether llama.cpp's allocation for `architecture` has been checked against
// the estimator (tests/node/estimate_families.mjs, docs/estimate-accuracy.md).
bool architecture_checked(const std::string &architecture);
// The checked architectures, sorted.
const std::vector<std::string> &checked_architectures();

inline constexpr uint64_t kCpuAlignment = 32;  // ggml TENSOR_ALIGNMENT

// Bytes a tensor takes in a GPU buffer: ggml-cuda's get_alloc_size adds one
// padded row to quantized tensors whose rows are not a multiple of 512
// elements, then the buffer aligns every tensor.
uint64_t gpu_tensor_bytes(const gguf::TensorInfo &t, const GpuTraits &gpu);

}  // namespace memopt::estimate
