#pragma once
// The `ai plan` document made once, for every caller: the CLI (`ai plan`,
// against the GPUs and RAM it reads itself) and the daemon (GET /api/v1/plan,
// against its current Snapshot). A model reference (GGUF path or Ollama name)
// and its companions are read, the devices chosen, the placement planned by
// estimate::plan_placement, and the result turned into the versioned JSON
// document (docs/json/ai-plan.md). The caller brings the machine and the
// active profile's reserve, so nothing here depends on where it runs.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "estimate/placement.h"
#include "gguf/model_info.h"
#include "gpu/gpu_device.h"
#include "proc/host_memory.h"
#include "util/result.h"

namespace memopt::plan {

// What the user asks for: the `ai plan` options (strings as typed, checked by
// check_options).
struct PlanOptions {
  std::string model;
  std::string ctx;  // empty: 4096, or the trained context when that is smaller
  uint32_t parallel = 1;
  std::string kv_type = "f16";
  std::string flash_attn = "on";
  std::string gpus = "auto";
  std::string vram;
  std::string ram;
  std::optional<uint32_t> ngl;
  std::string tensor_split;
  std::optional<uint32_t> n_cpu_moe;
  bool kv_unified = false;
  uint32_t batch = 2048;
  uint32_t ubatch = 512;
  double reserve_percent = -1;  // < 0: the caller's profile reserve
  std::string gpu_overhead = "512MiB";
  std::vector<std::string> ollama_roots;  // empty: $OLLAMA_MODELS / ~/.ollama/models / service
  bool no_spill = false;                  // refuse plans that keep weights in RAM
  std::string draft;                      // speculative draft model (-md)
  std::optional<uint32_t> ngld;
  std::vector<std::string> loras;  // LoRA adapters (--lora)
  std::string mmproj;              // vision/audio projector (--mmproj)
  std::string rope_scaling = "none";
  double rope_scale = 0;  // 0: not given
};

// The machine planned against: its GPUs and host memory as collected (by the
// CLI's collectors or the daemon's Snapshot). `host` empty: `host_error` says
// why, and only --ram can stand in.
struct Machine {
  std::vector<gpu::GpuDevice> gpus;
  std::optional<proc::HostMemory> host;
  std::string host_error;
};

// The model and its companions' files: paths as given, or an Ollama name
// resolved in its store (whose manifest also names projector and adapters).
struct ModelFiles {
  std::string model, draft, mmproj;
  std::vector<std::string> loras;
  bool from_ollama = false;
};

// The devices a plan uses: GPUs from the machine or from --vram, host RAM.
struct Devices {
  std::vector<estimate::GpuDevice> gpus;
  estimate::HostMemory host;
  std::vector<std::string> notes;
  bool what_if = false;
};

struct ModelPlan {
  gguf::ModelInfo info;
  ModelFiles files;
  Devices devices;
  estimate::PlanRequest request;
  estimate::PlacementPlan plan;
};

// The option values' parsers; each is also the CLI option's check, and
// check_options runs them all. Errors name the value and what is expected.
Result<uint64_t> parse_ctx(const std::string &s);  // 0: "max"
Result<uint32_t> parse_kv_type(const std::string &s);
Result<std::vector<uint64_t>> parse_size_list(const std::string &s);
Result<std::vector<double>> parse_tensor_split(const std::string &s);
Result<std::vector<int>> parse_gpu_list(const std::string &s);  // empty: every GPU

// The options' own consistency, before any file is read: a failure is the
// caller's mistake (CLI exit 2, HTTP 400); the message names the option.
Status check_options(const PlanOptions &o);

// Whether the machine's GPUs are needed (not --vram, not --gpus none): the
// CLI reads them only then.
bool needs_machine_gpus(const PlanOptions &o);

// Reads the model and companions, chooses devices and plans. `reserve_percent`
// is the share of GPU memory kept free when the options give none (the CLI
// and the daemon take it from the active profile). Errors (model not found,
// not a GGUF, context beyond the trained one, ...) name the file or option.
Result<ModelPlan> make_plan(const PlanOptions &o, const Machine &machine, double reserve_percent);

// A speculative draft model's bytes summed over its devices, as the plan's
// text and JSON report them: weights, KV (with recurrent state), compute
// (with the logits buffer).
struct DraftBytes {
  uint64_t weights = 0, kv = 0, compute = 0;
};
DraftBytes draft_bytes(const estimate::MemoryEstimate &e);

// {"schema": "ruvector-memopt.ai-plan/1", ...} (docs/json/ai-plan.md).
nlohmann::json plan_json(const ModelPlan &mp);

}  // namespace memopt::plan
