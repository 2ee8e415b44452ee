#pragma once
// SnapshotAssembler: the one place where the collectors' readings become a
// Snapshot. `ai status`, `ai detect`, `ai models`, `ai optimize`, a
// standalone `ai watch` and the daemon all call it, so the same process shows
// the same numbers wherever it is looked at. It reads GPUs and host memory on
// every call, scans processes (the detector) every call or every
// `detect_interval_seconds`, asks each runtime the detector found (and any
// fixed endpoint) which models it holds, and tracks those models across calls
// (idle time, KV peak). Each collector runs on its own: one that fails is
// recorded in Snapshot::errors and the others still report.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "assembler/gateway_collector.h"
#include "detect/workload_detector.h"
#include "gpu/gpu_device.h"
#include "runtimes/http.h"
#include "runtimes/registry.h"
#include "snapshot/snapshot.h"
#include "util/result.h"

namespace memopt::assembler {

struct AssembleOptions {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;  // empty: the system's libnvidia-ml.so.1
  // true: read every process's maps (`ai detect`); false: only those that may
  // be AI work (the cheap glance of `ai status`, the daemon).
  bool full_scan = true;
  bool probe_ports = true;     // --no-probe: never send the confirming HTTP probe
  bool query_runtimes = true;  // --no-runtimes: do not ask runtimes for their models
  bool read_models = true;     // GGUF facts and memory estimates of model files
  // 0: scan processes on every call; the daemon rescans every N seconds and
  // reuses the last scan in between (a /proc sweep costs more than a tick).
  double detect_interval_seconds = 0;
  // Runtime endpoints always asked, on top of those detected:
  // "ollama=http://127.0.0.1:11434", and runtimes' host variables
  // ("OLLAMA_HOST" -> value) when `use_host_env`.
  std::vector<std::string> endpoints;
  std::map<std::string, std::string> host_env;
  // A view must stay fast: a runtime that does not answer within these is
  // reported without its models.
  runtimes::HttpOptions http = fast_http();
  // Fail the whole reading when host memory or the process scan cannot be
  // read (one-shot commands); the daemon keeps going and records the error.
  bool strict = true;
  // The `serve` gateway to read (config.toml's [serve] listen and api_key);
  // nullopt: none configured, no gateway section.
  std::optional<GatewayTarget> gateway;

  static runtimes::HttpOptions fast_http();
};

// Where readings come from; tests replace any of them.
struct AssemblerSources {
  std::function<gpu::GpuSnapshot()> gpus;  // unset: the GPU backends at the roots
  // Which models the runtime `d` at `base` holds; unset: its registry client.
  std::function<Result<std::vector<runtimes::LoadedModel>>(const runtimes::RuntimeDescriptor& d,
                                                           const runtimes::BaseUrl& base)>
      loaded_models;
  // Layers of an Ollama model (/api/show); unset: the Ollama client.
  std::function<uint32_t(const runtimes::BaseUrl& base, const std::string& model)> ollama_layers;
  std::function<Result<gguf::ModelInfo>(const std::string& path)> read_model;  // unset: GGUF reader
  // unset: the memory estimator at the workload's context and parallel
  std::function<std::optional<snapshot::WorkloadEstimate>(const gguf::ModelInfo&, uint64_t ctx,
                                                          uint64_t parallel, bool on_gpu)>
      estimate_model;
  // The gateway's section; unset: collect_gateway at the target.
  std::function<snapshot::GatewayStatus(const GatewayTarget&)> gateway_state;
};

class SnapshotAssembler {
 public:
  explicit SnapshotAssembler(AssembleOptions options, AssemblerSources sources = {});
  ~SnapshotAssembler();

  // One reading. `now_seconds` is a monotonic clock (only differences count)
  // for idle tracking and the rescan interval.
  Result<snapshot::Snapshot> assemble(double now_seconds);

 private:
  struct State;
  std::unique_ptr<State> st_;
};

// Marks each workload whose process is a backend the gateway started
// (Workload::gateway_model), joined by pid, so views list it once.
void join_gateway(std::vector<snapshot::Workload>& workloads, const snapshot::GatewayStatus& g);

// A monotonic clock in seconds for assemble().
double monotonic_seconds();

// The estimate a workload's model gets when nothing else is asked: the
// estimator at `ctx` tokens per sequence (0: the runtime's default, 4096)
// and `parallel` sequences, with every layer on the GPU or none.
std::optional<snapshot::WorkloadEstimate> estimate_workload(const gguf::ModelInfo& info,
                                                            uint64_t ctx, uint64_t parallel,
                                                            bool on_gpu);

}  // namespace memopt::assembler
