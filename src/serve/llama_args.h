#pragma once
// What a llama.cpp server command asks of memory: the model file and the run
// settings (-m, -c, -np, -ngl, -ctk/-ctv, -fa, -b/-ub, --kv-unified) read
// from its argv, so the gateway plans the footprint of the exact command it
// will start (issue 15: "with the command's own settings").
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "estimate/memory_estimate.h"
#include "util/result.h"

namespace memopt::serve {

struct LlamaLaunch {
  std::string model_path;  // -m / --model ("" when absent)
  estimate::RunSettings settings;
  std::optional<uint32_t> n_gpu_layers;  // -ngl; nullopt: llama.cpp's default (all layers)
};

// Unknown arguments are left alone (the gateway plans only what it can read);
// a known flag with a value llama.cpp would refuse is an error naming it.
Result<LlamaLaunch> read_llama_args(const std::vector<std::string> &argv);

}  // namespace memopt::serve
