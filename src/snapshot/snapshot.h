#pragma once
// Snapshot: the one typed picture of the machine that every command, the
// daemon and the gateway render — host memory (with pressure and NUMA), GPUs
// with their telemetry, AI workloads (and non-AI VRAM holders) with their
// processes and models, the models the runtimes hold (context, parallel
// sequences, KV bytes measured or estimated, labelled), warnings. Built by
// exactly one assembler (assembler/assembler.h); turned into JSON once, at the
// edge (snapshot_json.h, schema ruvector-memopt.status/1, docs/json/status.md).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gpu/gpu_device.h"
#include "proc/host_memory.h"
#include "runtimes/runtime.h"

namespace memopt::snapshot {

// One signal that matched, on one process.
struct Evidence {
  int pid = 0;
  std::string signal;  // "program", "command", "python-module", "library", "http-probe", ...
  std::string detail;  // what matched: "libonnxruntime.so.1.20.1", "vllm serve"
  double confidence = 0;
};

// VRAM a workload holds on one GPU.
struct GpuShare {
  uint32_t gpu_index = 0;
  uint64_t used_bytes = 0;
};

// A GGUF model file as the GGUF reader described it (only the fields views
// need; the full ModelInfo stays with the reader).
struct ModelSummary {
  std::string path;
  uint64_t file_bytes = 0;
  std::string architecture;
  std::string name;
  std::string file_type_name;  // "Q4_K_M"
  uint64_t parameter_count = 0;
  uint64_t weight_bytes = 0;
  uint64_t context_length = 0;  // trained context
  uint32_t block_count = 0;
  std::string error;  // non-empty when the file could not be read as GGUF
};

// What the estimator predicts for a workload's model (when one can be made).
struct WorkloadEstimate {
  uint64_t context_tokens = 0;
  uint64_t weights_bytes = 0;
  uint64_t kv_cache_bytes = 0;
  uint64_t total_bytes = 0;
};

// What earlier runs of the same program reached on one GPU (learned by the
// policy's workload profiles from the daemon's history): shown as "expected
// to reach X (learned from N runs)".
struct LearnedPeak {
  uint32_t gpu_index = 0;
  uint64_t peak_bytes = 0;
  uint32_t runs = 0;
};

// A group of processes doing one piece of AI work (a server and its runners),
// or a non-AI process holding VRAM (runtime "other").
struct Workload {
  std::string runtime;                    // registry id ("ollama", "llama.cpp", ...) or "other"
  std::string runtime_name;               // display name ("Ollama"), or the command for "other"
  std::string flavor;                     // variant: "LM Studio", "node-llama-cpp", "Forge", ...
  std::vector<std::string> accelerators;  // "CUDA", "ONNX Runtime TensorRT EP", ...
  std::vector<std::string> also;          // other runtimes the same process shows (torch in vLLM)
  int pid = 0;                            // the group's top process
  std::vector<int> pids;                  // every process of the workload, ascending
  std::string command;                    // comm of the top process
  std::string container_id;               // non-empty when it runs in a container
  uint32_t uid = 0;
  double confidence = 0;
  std::vector<Evidence> evidence;
  std::string endpoint;             // "http://127.0.0.1:11434", "" when not listening
  bool endpoint_confirmed = false;  // an HTTP probe answered like the runtime
  std::string model;                // display name: runtime's name, argv model or file name
  std::vector<std::string> model_files;
  std::vector<ModelSummary> models;  // model files the GGUF reader could describe
  uint64_t context_tokens =
      0;                  // context the command line asks for (-c, --max-model-len), 0: unknown
  uint64_t parallel = 0;  // sequences the command line asks for (-np, --parallel), 0: unknown
  std::optional<WorkloadEstimate> estimate;
  std::optional<LearnedPeak> learned_peak;  // nullopt: never seen before (or not the daemon)
  uint64_t rss_bytes = 0;
  uint64_t swap_bytes = 0;
  std::vector<GpuShare> vram;  // per GPU
  uint64_t vram_bytes = 0;     // sum over GPUs
  std::string note;            // e.g. the platform note of DirectML
  std::string gateway_model;   // the gateway model this process serves ("": not the gateway's)
  // The key its API asks for, from its command line (detect's
  // api_key_from_args); "" none. Never shown and never in the JSON: the
  // assembler sends it to that runtime only.
  std::string api_key;

  bool is_ai() const { return runtime != "other"; }
};

struct Warning {
  std::string severity;  // "info", "warning", "critical"
  std::string message;   // what is wrong, with figures
  std::string action;    // what to do (a command to run), may be empty
};

struct ScanStats {
  int processes = 0;
  int denied_processes = 0;  // processes whose maps/fds could not be read (permission)
  int vanished_processes = 0;
  bool as_root = false;  // the scan ran with root rights (denials are then not ours to fix)
};

// A collector that failed this time; the others still reported.
struct CollectorError {
  std::string collector;  // "host", "gpu", "detect", "runtimes"
  std::string message;
};

// One device the gateway budgets (a GPU, or host RAM when CPU-only).
struct GatewayDevice {
  std::string device;  // "GPU 0 (NVIDIA H200)", "RAM"
  uint64_t budget_bytes = 0;
  uint64_t planned_bytes = 0;  // the planned footprints of the models it holds
  int gpu = -1;                // the GPU's index; -1 for RAM (CPU-only budget)
};

// A model the gateway (`serve`) routes to, as its GET /serve/state says.
struct GatewayModel {
  std::string name;
  // "stopped", "loading", "ready", "busy", "evicting", "crashed", or
  // "external" (an endpoint model the gateway does not start).
  std::string state;
  std::vector<uint64_t> planned_bytes;  // per GatewayStatus::devices entry
  int pid = 0;                          // the backend it started, 0: none running
  int port = 0;
  uint64_t rss_bytes = 0;
  uint64_t queued = 0;                     // requests waiting for the model
  double oldest_wait_seconds = 0;          // the longest any of them has waited
  std::optional<double> mean_wait_seconds; // over requests admitted so far
  uint64_t in_flight = 0;
  std::string runtime;  // endpoint models: "ollama", "llamacpp", ...
  std::string last_error;
};

// The gateway's image-generation handoff, as its GET /serve/state says
// (its "handoff" section, present when it watches an image server).
struct GatewayHandoff {
  std::string phase;         // "idle", "rendering", "settling"
  std::string mode;          // the active profile's render_handoff: off, queue, reject
  std::string rendering_on;  // "comfyui at http://..." while a server has a job; "" when none
  uint64_t handoffs = 0, requests_held = 0, requests_rejected = 0;

  // The one sentence every view shows after "Image renders: " (ai status,
  // ai models, ai watch, the web page through the status document's
  // "summary"): "idle; on a render models yield, requests wait (2 so far)",
  // "rendering on comfyui at URL: models yield, requests wait; 1 held, 0
  // refused", "off (the active profile's render_handoff)". ASCII only.
  std::string summary() const;
  // A render holds the models now (not off, not idle).
  bool holding() const;
};

// The gateway configured in config.toml's [serve] (listen address): reachable
// with its models, or the error that kept it from answering.
struct GatewayStatus {
  std::string listen;  // "127.0.0.1:8080"
  bool reachable = false;
  std::string error;  // why it was not read, "" when reachable
  std::vector<GatewayDevice> devices;
  std::vector<GatewayModel> models;
  std::optional<GatewayHandoff> handoff;  // nullopt: it watches no image server

  const GatewayModel* find_pid(int pid) const {
    for (const auto& m : models) {
      if (pid > 0 && m.pid == pid) return &m;
    }
    return nullptr;
  }
};

struct Snapshot {
  uint64_t taken_at_unix_ms = 0;
  proc::HostMemory host;
  std::vector<gpu::GpuDevice> gpus;
  std::string gpu_backend;          // "nvml", "amdgpu", "none", ... empty when not collected
  std::string gpu_error;            // why GPUs could not be read, "" when fine
  std::vector<Workload> workloads;  // AI workloads, then non-AI VRAM holders ("other")
  std::vector<runtimes::LoadedModel> loaded_models;
  ScanStats scan;
  std::string profile;  // active policy profile, "" when none
  std::vector<Warning> warnings;
  std::vector<std::string> unsupported;  // runtimes this platform cannot show, with why
  std::vector<CollectorError> errors;
  std::optional<GatewayStatus> gateway;  // nullopt: no gateway configured

  uint64_t ram_used_bytes() const {
    const auto& m = host.meminfo;
    return m.total_bytes - std::min(m.total_bytes, m.available_bytes);
  }
};

}  // namespace memopt::snapshot
