#pragma once
// AIWorkloadDetector: the collector that turns the machine's state into a
// Snapshot — scans processes, probes ambiguous ports on loopback, groups AI
// workloads, attaches GPU memory, GGUF model info and Ollama model names,
// and derives warnings. Every source is a parameter (proc root, GPU reader,
// model reader) so tests can run it on fixture trees and real processes.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "detect/snapshot.h"
#include "gguf/model_info.h"
#include "util/result.h"

namespace memopt::detect {

// What the GPU backends report, in the detector's terms.
struct GpuReading {
  std::string backend;  // "nvml", "amdgpu", "none", ...
  std::string error;    // why GPUs could not be read, "" when fine
  std::vector<GpuDevice> devices;
  std::vector<ProcessGpuMemory> processes;
};

struct DetectorOptions {
  std::string proc_root = "/proc";
  // true: read every process's maps (`ai detect`); false: only those of
  // processes that may_be_ai_work() (detector.h) lets through (`ai status`).
  bool full_scan = true;
  bool probe_ports = true;
  std::chrono::milliseconds probe_timeout{250};
  size_t max_probes = 8;
  // Reads GPUs and per-process VRAM; unset: no GPU data in the snapshot.
  std::function<GpuReading()> read_gpus;
  // Reads a GGUF file's ModelInfo; unset: models are listed by path only.
  std::function<Result<gguf::ModelInfo>(const std::string& path)> read_model;
  // Estimates a workload's memory from its model at a context (0: the
  // runtime's default) with the layers on the GPU or not; unset: no estimate.
  std::function<std::optional<WorkloadEstimate>(const gguf::ModelInfo&, uint64_t context_tokens,
                                                bool on_gpu)>
      estimate_model;
  // Asks a workload's runtime (at its endpoint) which models it holds;
  // unset: none asked.
  std::function<std::vector<LoadedModel>(const Workload&)> read_loaded_models;
};

class AIWorkloadDetector {
 public:
  explicit AIWorkloadDetector(DetectorOptions opts) : opts_(std::move(opts)) {}

  // detect_active_runtimes: the workloads only (no host memory, no warnings).
  Result<std::vector<Workload>> detect_active_runtimes();
  // Everything `ai status` shows.
  Result<Snapshot> snapshot();

 private:
  DetectorOptions opts_;
};

// "registry.ollama.ai/library/qwen2/7b" manifest path parts -> "qwen2:7b".
// Looks in <models>/manifests for the manifest whose model layer is the blob
// at `blob_path` (<models>/blobs/sha256-<hex>); "" when none names it.
std::string ollama_model_name_for_blob(const std::string& blob_path);

ModelSummary summarize_model(const gguf::ModelInfo& info);

}  // namespace memopt::detect
