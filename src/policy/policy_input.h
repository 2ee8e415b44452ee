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
  uint32_t context_length = 0;   // allocated context (tokens, all slots)
  uint32_t parallel_slots = 1;   // llama.cpp -np / Ollama NUM_PARALLEL
  uint64_t kv_capacity_bytes = 0;  // KV cache allocated for context_length
  uint64_t kv_used_bytes = 0;      // currently used (0 if the runtime cannot say)
  uint64_t kv_peak_bytes = 0;      // highest use observed while loaded
  double idle_seconds = 0;         // since the last request
  bool busy = false;               // a request is in flight
  bool pinned = false;             // keep_alive < 0: the user wants it kept
  uint32_t n_layers = 0;           // repeating layers (+1 output) as the planner counts
  uint32_t gpu_layers = 0;         // how many are on the GPU now
  uint64_t gpu_layer_bytes = 0;    // VRAM one layer takes (from the planner)
  // While a model is still loading: the VRAM it will hold once loaded, from
  // the planner's estimate of its file (0 = not loading, or unknown).
  uint64_t loading_target_vram_bytes = 0;

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

struct PolicyInput {
  double now_seconds = 0;  // monotonic or wall time, only differences matter
  HostState host;
  std::vector<GpuState> gpus;
  std::vector<ModelState> models;
  std::vector<ImageGenState> image_gen;
};

}  // namespace memopt::policy
