// estimate_probe MODEL.gguf CTX:SEQS:KVTYPE:FA:UBATCH...
// estimate_probe --checked   (the checked architectures, a JSON array)
// The estimator's CPU-only figures for one model at several run settings, one
// JSON line per setting, for the real-size accuracy grid
// (tests/node/estimate_real_accuracy.mjs). It calls the same
// prepare_model_costs / estimate_memory_requirements as `ai plan --gpus none`,
// once per model, so a grid of hundreds of rows costs one process per model.
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "estimate/memory_estimate.h"
#include "estimate/placement.h"
#include "gguf/model_info.h"

namespace {

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 10) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace memopt;
  if (argc == 2 && std::string(argv[1]) == "--checked") {
    std::cout << nlohmann::json(estimate::checked_architectures()).dump() << "\n";
    return 0;
  }
  if (argc < 3) {
    std::cerr << "usage: estimate_probe MODEL.gguf CTX:SEQS:KVTYPE:FA:UBATCH...\n";
    return 2;
  }
  auto model = gguf::get_model_info(argv[1]);
  if (!model) {
    std::cerr << "estimate_probe: " << model.error().message << "\n";
    return 1;
  }
  const estimate::GpuTraits gpu;
  auto costs = estimate::prepare_model_costs(*model, gpu);
  if (!costs) {
    std::cerr << "estimate_probe: " << costs.error().message << "\n";
    return 1;
  }
  for (int i = 2; i < argc; ++i) {
    std::vector<std::string> f;
    std::stringstream ss(argv[i]);
    for (std::string part; std::getline(ss, part, ':');) f.push_back(part);
    uint64_t ctx = 0, seqs = 0, ubatch = 0;
    const auto kv = f.size() == 5 ? estimate::kv_type_from_name(f[2]) : std::nullopt;
    if (f.size() != 5 || !parse_u64(f[0], ctx) || !parse_u64(f[1], seqs) || !kv ||
        (f[3] != "on" && f[3] != "off") || !parse_u64(f[4], ubatch) || seqs == 0 || seqs > 4096 ||
        ubatch == 0 || ubatch > UINT32_MAX) {
      std::cerr << "estimate_probe: argument " << i << " '" << argv[i]
                << "' is not CTX:SEQS:KVTYPE:on|off:UBATCH\n";
      return 2;
    }
    estimate::RunSettings s;
    s.ctx_per_seq = ctx;
    s.parallel = static_cast<uint32_t>(seqs);
    s.n_batch = s.n_ubatch = static_cast<uint32_t>(ubatch);
    s.type_k = s.type_v = *kv;
    s.flash_attn = f[3] == "on";
    auto est = estimate::estimate_memory_requirements(*costs, s, estimate::Placement{}, gpu);
    if (!est) {
      std::cerr << "estimate_probe: " << argv[i] << ": " << est.error().message << "\n";
      return 1;
    }
    const auto& cpu = est->devices[0];
    nlohmann::json j = {{"config", argv[i]},
                        {"arch", model->architecture},
                        {"checked", estimate::architecture_checked(model->architecture)},
                        {"weights_bytes", cpu.weights_bytes},
                        {"kv_bytes", cpu.kv_bytes},
                        {"recurrent_bytes", cpu.recurrent_bytes},
                        {"compute_bytes", cpu.compute_bytes},
                        {"output_bytes", cpu.output_bytes},
                        {"cells_full", est->kv_cells_full},
                        {"cells_swa", est->kv_cells_swa},
                        {"streams", est->n_stream}};
    std::cout << j.dump() << "\n";
  }
  return 0;
}
