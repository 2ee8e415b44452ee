#pragma once
// A llama-shaped ModelInfo of any size without a file: what the GGUF reader
// would produce for a dense (or MoE) transformer with the given dimensions.
// Used by the planner's unit tests and benchmark, where real multi-GiB files
// are not needed to exercise placement.
#include <cstdint>

#include "gguf/model_info.h"

namespace memopt::testing {

struct SyntheticModelSpec {
  uint32_t n_layer = 32;
  uint64_t n_embd = 4096;
  uint32_t n_head = 32;
  uint32_t n_head_kv = 8;
  uint64_t n_ff = 14336;
  uint64_t n_vocab = 128256;
  uint64_t n_ctx_train = 131072;
  uint32_t weight_type = 12;  // ggml type of the matrices (12 = Q4_K)
  uint32_t n_expert = 0;      // > 0: MoE FFN with n_ff per expert
  uint32_t n_expert_used = 0;
  bool tied_output = false;
};

gguf::ModelInfo synthetic_model_info(const SyntheticModelSpec& spec);

}  // namespace memopt::testing
