#pragma once
// The Offload Orchestrator's planner (`plan_placement`): given a model, the
// devices with their free memory and the run settings, decide how many layers
// go on which GPU, the largest context that fits for each KV cache type, the
// single change that would make the model fit fully on the GPUs, and the
// llama.cpp / Ollama settings that express the plan. Pure: values in, values
// out. A plan is only marked loadable when every device fits.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "estimate/companions.h"
#include "estimate/memory_estimate.h"

namespace memopt::estimate {

struct GpuDevice {
  int id = 0;  // the runtime's device index (CUDA_VISIBLE_DEVICES order)
  std::string name;
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;  // 0: unknown (what-if planning): the reserve applies to free
  int numa_node = -1;        // -1: unknown
};

struct HostMemory {
  uint64_t available_bytes = 0;  // MemAvailable
  uint32_t numa_nodes = 1;
};

// A speculative draft model (llama-server -md). llama.cpp gives it a context
// of its own with the main context's size and sequences and its own KV
// cache type (common/speculative.cpp common_base_params_to_speculative:
// -ctkd/-ctvd, default f16), and places its layers with -ngld and the same
// tensor split.
struct DraftModel {
  std::string path;
  ModelCosts costs;
  uint32_t type_k = 1, type_v = 1;
  std::optional<uint32_t> pinned_ngl;  // user's -ngld
};

struct PlanRequest {
  RunSettings settings;
  bool ctx_max = false;                      // --ctx max: the largest context that fits
  std::optional<uint32_t> pinned_ngl;        // user's -ngl
  std::vector<double> pinned_tensor_split;   // user's -ts
  std::optional<uint32_t> pinned_n_cpu_moe;  // user's --n-cpu-moe
  bool pinned_kv_type = false;               // the user chose the KV type
  // Share of each GPU's memory kept free for the desktop and other programs.
  // `ai plan` sets it from the active profile: 100 minus the profile's
  // reserve_vram_percent, the share AI work may fill (seed: local_llm 90, so
  // 10% stays free); 5% is the seed tray's `vram_reserve_percent`.
  double reserve_vram_percent = 5.0;
  GpuTraits gpu;
  // RoPE scaling (llama.cpp --rope-scaling / --rope-scale): contexts up to
  // the training context times the factor; "" = none.
  std::string rope_scaling;
  double rope_scale = 1.0;
  std::optional<DraftModel> draft;
  std::optional<ProjectorCosts> projector;  // llama-server --mmproj
  std::vector<AdapterWeights> adapters;     // --lora, already attached to the costs
};

// Where one layer runs, as in the seed: on a GPU, on the CPU (NUMA node), or
// split (MoE: attention on a GPU, experts on the CPU).
struct LayerOnGpu {
  int device_id;
};
struct LayerOnCpu {
  int numa_node;
};
struct LayerSplit {
  int device_id;
  double gpu_percent;  // share of the layer's weight bytes on the GPU
};
using LayerPlacement = std::variant<LayerOnGpu, LayerOnCpu, LayerSplit>;

// One alternative that would make the model fit fully on the GPUs.
struct FitSuggestion {
  std::string change;      // "use a q8_0 KV cache"
  std::string flags;       // "-ctk q8_0 -ctv q8_0 -fa on"
  std::string cost;        // what the user gives up
  uint64_t gpu_bytes = 0;  // GPU memory the model then needs (sum over GPUs)
  bool approximate = false;
};

struct KvTypeMaxContext {
  std::string kv_type;       // "f16", "q8_0", "q4_0"
  uint64_t max_ctx_per_seq;  // 0: not even the smallest context fits fully on
                             // the GPUs
};

struct LaunchSettings {
  std::vector<std::string> llama_cpp_args;            // ready to append to llama-server
  std::map<std::string, std::string> ollama_options;  // num_gpu, num_ctx
  std::map<std::string, std::string> env;             // OLLAMA_KV_CACHE_TYPE, ...
  std::vector<std::string> numa_advice;
};

struct PlacementPlan {
  bool fits = false;          // this plan loads (every device within its limit)
  bool fully_on_gpu = false;  // all layers and the output on GPUs
  bool cpu_only = false;      // no GPU takes part
  std::string verdict;        // one plain sentence
  RunSettings settings;       // the settings the plan uses
  Placement placement;
  MemoryEstimate estimate;
  std::vector<uint64_t> gpu_limit_bytes;  // per GPU: free minus reserve
  uint64_t host_limit_bytes = 0;
  std::vector<LayerPlacement> layers;
  std::vector<uint32_t> layers_per_gpu;
  std::vector<KvTypeMaxContext> max_context;
  std::vector<FitSuggestion> suggestions;
  std::vector<std::string> warnings;
  LaunchSettings launch;
  // Companions as placed: the draft's layers on the GPUs (-ngld) with its own
  // estimate (no second runtime overhead: same process), and where the
  // projector went (the main GPU, or the host with --no-mmproj-offload).
  uint32_t draft_n_gpu_layers = 0;
  std::optional<MemoryEstimate> draft_estimate;
  bool projector_on_gpu = false;
};

Result<PlacementPlan> plan_placement(const ModelCosts &costs, const std::vector<GpuDevice> &gpus,
                                     const HostMemory &host, const PlanRequest &request);

// The cache type names llama.cpp accepts for -ctk/-ctv that the planner knows.
std::optional<uint32_t> kv_type_from_name(const std::string &name);

}  // namespace memopt::estimate
