#pragma once
// ModelInfo: what the memory estimator and the planner need to know about a
// model, derived from the GGUF metadata and its tensor table
// (`get_model_info`). Per-layer values are vectors of length block_count.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace memopt::gguf {

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> shape;  // ne[0..n_dims)
  uint32_t type = 0;            // ggml type id
  uint64_t offset = 0;          // absolute offset of the data in its file
  uint64_t size_bytes = 0;      // exact, from shape and type
  int layer = -1;               // N for "blk.N.*", -1 for non-layer tensors
  int split_index = 0;          // which part of a split model holds it
};

struct ModelInfo {
  std::string path;                // first (or only) file
  std::vector<std::string> parts;  // every file of a split model, in order
  uint32_t gguf_version = 0;
  std::string architecture;        // general.architecture
  std::string name;                // general.name
  bool is_projector = false;       // clip / mmproj file
  uint32_t file_type = 0;          // general.file_type (llama_ftype), 0 if absent
  std::string file_type_name;      // "Q4_K_M"...
  uint64_t file_bytes = 0;         // sum over parts
  uint64_t parameter_count = 0;    // from tensor shapes
  uint64_t weight_bytes = 0;       // sum of tensor sizes
  std::map<std::string, uint64_t> bytes_per_type;  // ggml type name -> bytes

  // Hyper-parameters ("[arch].*"); 0 when absent.
  uint64_t context_length = 0;
  uint64_t embedding_length = 0;
  uint32_t block_count = 0;
  std::vector<uint64_t> feed_forward_length;   // per layer
  std::vector<uint32_t> head_count;            // per layer
  std::vector<uint32_t> head_count_kv;         // per layer (0: no attention there)
  uint32_t key_length = 0;                     // per head; default embd / head_count
  uint32_t value_length = 0;
  uint32_t key_length_swa = 0;                 // 0: same as key_length
  uint32_t value_length_swa = 0;
  uint32_t key_length_mla = 0;                 // present => MLA (K-only cache)
  uint32_t value_length_mla = 0;
  uint32_t kv_lora_rank = 0;
  uint32_t expert_count = 0;
  uint32_t expert_used_count = 0;
  uint64_t expert_feed_forward_length = 0;
  uint32_t sliding_window = 0;                 // 0: none
  std::vector<bool> swa_layers;                // per layer: true = sliding-window layer
  uint32_t shared_kv_layers = 0;
  std::vector<bool> recurrent_layers;          // per layer: SSM / RWKV state instead of KV
  uint32_t ssm_conv_kernel = 0, ssm_inner_size = 0, ssm_state_size = 0, ssm_group_count = 0,
           ssm_time_step_rank = 0;
  uint32_t wkv_head_size = 0, token_shift_count = 0, shortconv_l_cache = 0;
  uint32_t nextn_predict_layers = 0;
  uint64_t vocab_size = 0;
  bool causal = true;                          // false for embedding / reranker models
  // Where swa_layers came from: "metadata" (sliding_window_pattern key),
  // "architecture default" (the period llama.cpp's loader hard-codes), or
  // "" when no layer uses a sliding window.
  std::string swa_pattern_source;
  std::string projector_type;                  // clip.projector_type of an mmproj file

  // Weights.
  std::vector<uint64_t> layer_weight_bytes;    // per layer, all blk.N.* tensors
  std::vector<uint64_t> layer_expert_bytes;    // per layer, the *_exps tensors (subset of above)
  uint64_t token_embd_bytes = 0;
  uint64_t output_bytes = 0;                   // output.weight (0 when tied to token_embd)
  uint64_t output_norm_bytes = 0;
  uint64_t other_nonlayer_bytes = 0;           // any other non-blk tensor
  bool has_output_tensor = false;

  std::vector<TensorInfo> tensors;
};

class GgufFile;

// Reads the model at `path` (every part of a split model, found from the
// "-NNNNN-of-NNNNN.gguf" name) and derives its ModelInfo. Header only.
Result<ModelInfo> get_model_info(const std::string& path);
// Derives ModelInfo from headers already read: one file, or every part of a
// split model in order (part 1 holds the metadata). Pure: no I/O.
Result<ModelInfo> model_info_from_files(const std::vector<GgufFile>& parts);
// llama_ftype as a short name ("Q4_K_M", "F16"); "" when unknown.
std::string llama_ftype_name(uint32_t ftype);
// The paths of every part of a split model, given one part's path
// ("x-00002-of-00003.gguf"); an Error when the name has no such suffix.
Result<std::vector<std::string>> split_part_paths(const std::string& path);

}  // namespace memopt::gguf
