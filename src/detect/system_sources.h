#pragma once
// The real data sources behind an AIWorkloadDetector: the GPU backends
// (src/gpu), the GGUF reader (src/gguf), the memory estimator (src/estimate)
// and the runtime clients (src/runtimes). Kept apart from the detector so the
// detector's tests can run on fixture trees with fakes.
#include <string>

#include "detect/workload_detector.h"

namespace memopt::detect {

struct SystemRoots {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;  // empty: the system's libnvidia-ml.so.1
  bool probe_ports = true;
  bool query_runtimes = true;  // ask runtimes at their endpoints which models they hold
};

DetectorOptions system_detector_options(const SystemRoots& roots);

}  // namespace memopt::detect
