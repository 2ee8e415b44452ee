#pragma once
// The policy engine's view of the machine: a compact, pure-value digest of the
// Snapshot (GPUs, host RAM, loaded models, image-generation runtimes), so the
// engine and its tests never depend on collectors or I/O.
#include <cstdint>
#include <string>
#include <vector>

namespace memopt::policy {

struct GpuState {
  int index = 0;
  std::string name;
  uint64_t used_bytes = 0;
  uint64_t total_bytes = 0;
  bool throttling = false;      // thermal or power throttle reported by the driver
  std::string throttle_reason;  // e.g. "thermal", "power"
};

struct HostState {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  // MemAvailable
};

// A model loaded in a runtime (Ollama, llama-server, vLLM, ...).
struct ModelState {
  std::string runtime;   // "ollama", "llamacpp", "vllm", ...
  std::string name;      // model name as the runtime reports it
  std::string endpoint;  // runtime base URL, for the actuator
  int64_t pid = 0;
  int gpu = -1;             // GPU holding its layers, -1 = CPU only
  uint64_t size_bytes = 0;  // total resident size (VRAM + RAM)
  uint64_t vram_bytes = 0;
  uint32_t context_length = 0;     // allocated context (tokens, all slots)
  uint32_t parallel_slots = 1;     // llama.cpp -np / Ollama NUM_PARALLEL
  uint64_t kv_capacity_bytes = 0;  // KV cache allocated for context_length
  uint64_t kv_used_bytes = 0;      // currently used (0 if the runtime cannot say)
  uint64_t kv_peak_bytes = 0;      // highest use observed while loaded
  double idle_seconds = 0;         // since the last request
  bool busy = false;               // a request is in flight
  // Never unloaded or reloaded by the policy: keep_alive < 0 (the user
  // wants it kept), or served by a backend the serve gateway manages (it
  // evicts and restarts those itself; snapshot_adapter.cc).
  bool pinned = false;
  uint32_t n_layers = 0;           // repeating layers (+1 output) as the planner counts
  uint32_t gpu_layers = 0;         // how many are on the GPU now
  uint64_t gpu_layer_bytes = 0;    // VRAM one layer takes (from the planner)

  std::string key() const { return runtime + "/" + name; }
};

// ComfyUI / AUTOMATIC1111: they can free their caches via their own API.
struct ImageGenState {
  std::string runtime;  // "comfyui", "a1111"
  std::string endpoint;
  int gpu = 0;
  uint64_t vram_bytes = 0;
  bool generating = false;  // queue non-empty
  double idle_seconds = 0;  // since the last generation finished

  std::string key() const { return runtime + "@" + endpoint; }
};

// Memory a program is about to take on a GPU, known before the GPU's
// counters show it. Only three sources can know it (issue 14): the planner's
// estimate for a model a runtime reports loading, the gateway's admission of
// a model it is about to start, and a workload profile learned from earlier
// runs of the same program. Nothing else may fill this (the simulator's
// tests check that it is filled only the way the daemon can).
struct AnnouncedLoad {
  std::string source;    // "planner", "gateway" or "profile"
  std::string runtime;   // registry id, "other" for a non-AI program
  std::string model;     // model name, or the program for a profile
  std::string endpoint;  // runtime base URL, "" when none
  int64_t pid = 0;       // the process taking the memory, 0 when not started yet
  int gpu = 0;
  uint64_t bytes = 0;  // VRAM it will hold on `gpu` at its peak
  // The part of `bytes` the GPU's used counter already shows (the process's
  // VRAM as the GPU backend attributes it; 0 when not attributable, which
  // makes the engine count the whole load on top: cautious, never short).
  uint64_t resident_bytes = 0;
  uint32_t runs = 0;  // profile: runs it was learned from
  double announced_at_seconds = 0;

  uint64_t remaining_bytes() const { return bytes > resident_bytes ? bytes - resident_bytes : 0; }
};

// How long an action took, from decision to its memory showing free in the
// samples, as the daemon recorded it (history), for one runtime, action
// kind and model size class. The engine plans with the spread, not the
// median (engine.h: PolicyTuning::delay_spread_factor); with no record it
// uses the tuning's prior.
struct ActionDelayStats {
  std::string runtime;           // registry id ("ollama"), "" = any runtime
  std::string action;            // action_kind_name(): "unload", "reload_fewer_layers", ...
  uint64_t min_model_bytes = 0;  // size class: [min, max) of the model's VRAM
  uint64_t max_model_bytes = UINT64_MAX;
  double p50_seconds = 0;
  double p90_seconds = 0;
  uint32_t count = 0;  // actions measured
};

struct PolicyInput {
  double now_seconds = 0;  // monotonic or wall time, only differences matter
  HostState host;
  std::vector<GpuState> gpus;
  std::vector<ModelState> models;
  std::vector<ImageGenState> image_gen;
  std::vector<AnnouncedLoad> announced;  // loads known before they land
  std::vector<ActionDelayStats> delays;  // learned action durations
};

}  // namespace memopt::policy
