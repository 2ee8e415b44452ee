#pragma once
// KV cache bytes the runtime does not report, from the model's GGUF and the
// loaded context, through the estimator (src/estimate, llama.cpp's KV
// allocation rules). Reads the GGUF header, so callers use it for one-shot
// commands, not in a 1 Hz poll.
#include <cstdint>
#include <string>

#include "runtimes/runtime.h"
#include "util/result.h"

namespace memopt::runtimes {

struct KvEstimateInput {
  std::string gguf_path;
  uint64_t ctx_per_seq = 0;
  uint32_t parallel = 1;
  uint32_t cache_type = 1;  // ggml type id of K and V; 1 = f16 (llama.cpp and Ollama default)
};

// The KV pool the runtime allocated for this context: llama.cpp pads the
// context and sizes sliding-window layers to the window, which the estimator
// knows. Returns total bytes and bytes per token of context.
struct KvEstimate {
  uint64_t total_bytes = 0;
  uint64_t cells = 0;  // n_ctx as llama.cpp allocates it (padded)
};
Result<KvEstimate> estimate_kv_cache(const KvEstimateInput& in);

// Fills m.kv.capacity_bytes (and used_bytes from used tokens) as estimates;
// leaves measured figures alone. Returns what it did or why it could not.
Status add_kv_estimate(LoadedModel& m, const KvEstimateInput& in);

}  // namespace memopt::runtimes
