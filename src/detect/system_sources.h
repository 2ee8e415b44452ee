#pragma once
// The real data sources behind an AIWorkloadDetector: the GPU backends
// (src/gpu), the GGUF reader (src/gguf), the memory estimator (src/estimate)
// and the runtime clients (src/runtimes). Kept apart from the detector so the
// detector's tests can run on fixture trees with fakes.
#include <string>
#include <vector>

#include "detect/workload_detector.h"
#include "runtimes/probe.h"

namespace memopt::detect {

struct SystemRoots {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;  // empty: the system's libnvidia-ml.so.1
  bool probe_ports = true;
  bool query_runtimes = true;  // ask runtimes at their endpoints which models they hold
};

DetectorOptions system_detector_options(const SystemRoots& roots);

// The runtimes the process scan of `proc_root` finds listening, as endpoints
// for runtime discovery (runtimes::DiscoveryInput::detected): a runtime on a
// port other than its default (llama-server --port 9091) is then queried like
// one on its default. One selective scan (no GPUs, no model files); ambiguous
// ports get the detector's loopback probe unless `probe_ports` is false.
// Workloads whose runtime has no client (Whisper, PyTorch...) are left out.
std::vector<runtimes::Endpoint> detected_runtime_endpoints(const std::string& proc_root,
                                                           bool probe_ports = true);

}  // namespace memopt::detect
