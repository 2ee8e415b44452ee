#pragma once
// AIWorkloadDetector: the collector that turns the machine's state into a
// Snapshot — scans processes, probes ambiguous ports on loopback, groups AI
// workloads, attaches GPU memory, GGUF model info and Ollama model names,
// and derives warnings. Every source is a parameter (proc root, GPU reader,
// model reader) so tests can run it on fixture trees and real processes.
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "runtimes/probe.h"
#include "gguf/model_info.h"
#include "util/result.h"

namespace memopt::detect {

struct DetectorOptions {
  std::string proc_root = "/proc";
  // true: read every process's maps (`ai detect`); false: only those of
  // processes that may_be_ai_work() (detector.h) lets through (`ai status`).
  bool full_scan = true;
  bool probe_ports = true;
  std::chrono::milliseconds probe_timeout{250};
  size_t max_probes = 8;
  // Reads a GGUF file's ModelInfo; unset: models are listed by path only.
  std::function<Result<gguf::ModelInfo>(const std::string& path)> read_model;
  // Estimates a workload's memory from its model at a context (0: the
  // runtime's default) and parallel sequences (0: one), with the layers on
  // the GPU or not; unset: no estimate.
  std::function<std::optional<WorkloadEstimate>(const gguf::ModelInfo&, uint64_t context_tokens,
                                                uint64_t parallel, bool on_gpu)>
      estimate_model;
};

// One process scan's result: the workloads and how the scan went.
struct Detection {
  std::vector<Workload> workloads;
  ScanStats scan;
};

class AIWorkloadDetector {
 public:
  explicit AIWorkloadDetector(DetectorOptions opts) : opts_(std::move(opts)) {}

  // Scans processes; `vram` is the GPU backends' per-process memory (it
  // joins workloads and selects which processes a selective scan reads).
  Result<Detection> detect(std::span<const ProcessGpuMemory> vram = {});
  // detect_active_runtimes: the workloads only.
  Result<std::vector<Workload>> detect_active_runtimes(std::span<const ProcessGpuMemory> vram = {});

 private:
  DetectorOptions opts_;
};

// The runtimes the process scan of `proc_root` finds listening, as endpoints
// for runtime discovery (runtimes::DiscoveryInput::detected): a runtime on a
// port other than its default (llama-server --port 9091) is then queried like
// one on its default. One selective scan (no GPUs, no model files); ambiguous
// ports get the loopback probe unless `probe_ports` is false. Workloads whose
// runtime has no API client (Whisper, PyTorch...) are left out.
std::vector<runtimes::Endpoint> detected_runtime_endpoints(const std::string& proc_root,
                                                           bool probe_ports = true);

// True for an IPv4 127.0.0.0/8 literal or ::1: the only hosts a probe is sent to.
bool is_loopback_host(std::string_view host);
// One detector probe: GET r.path on r.host:r.port (loopback only), answered
// 200 with r.expect in the body within `timeout`.
bool probe_answers(const ProbeRequest& r, std::chrono::milliseconds timeout);

// "registry.ollama.ai/library/qwen2/7b" manifest path parts -> "qwen2:7b".
// Looks in <models>/manifests for the manifest whose model layer is the blob
// at `blob_path` (<models>/blobs/sha256-<hex>); "" when none names it.
std::string ollama_model_name_for_blob(const std::string& blob_path);

ModelSummary summarize_model(const gguf::ModelInfo& info);

// The first key a header can carry (runtimes::header_token_safe) of the
// --api-key-file `file` of process `pid` (owned by `uid`), read as
// proc::read_process_key_file reads it: the scan's, for a llama-server it
// finds, and the gateway's, for a backend it starts. Only as that user.
Result<std::string> key_from_key_file(const std::string& proc_root, int pid, uint32_t uid,
                                      const std::string& file);

}  // namespace memopt::detect
