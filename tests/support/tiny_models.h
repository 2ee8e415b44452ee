#pragma once
// Tiny but real GGUF models: a few hundred KiB each, with a real (small)
// SentencePiece-style vocabulary, every tensor llama.cpp requires for the
// architecture and valid f16/f32 data, so the real llama.cpp (node-llama-cpp's
// prebuilt) loads them. Used by the estimator's accuracy harness and by the
// detector/runtime tests that need a live llama.cpp process holding a model.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/model_info.h"
#include "util/result.h"

namespace memopt::testing {

enum class TinyArch {
  kLlamaGqa,   // llama, grouped-query attention (4 heads, 2 KV heads), separate output.weight
  kGemma2Swa,  // gemma2, sliding window on every other layer, tied embeddings
  kQwen3Moe,   // qwen3moe, 8 experts / 2 used, per-head q/k norms
};

std::vector<TinyArch> all_tiny_archs();
// "tiny-llama-gqa.gguf", ...
std::string tiny_model_file_name(TinyArch arch);

// Writes the model to `path` (overwriting). Deterministic: the same bytes on
// every run.
Status write_tiny_model(TinyArch arch, const std::string& path);

// Writes every tiny model into `dir` (which must exist); returns their paths.
Result<std::vector<std::string>> write_tiny_models(const std::string& dir);

// The ModelInfo the GGUF reader must produce for the tiny model (tensor table,
// sizes and hyper-parameters), built from the same spec the writer uses.
gguf::ModelInfo tiny_model_info(TinyArch arch);

}  // namespace memopt::testing
