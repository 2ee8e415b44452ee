#pragma once
// One sample of the machine as the daemon sees it: the status document the
// API serves, the policy engine's compact input, and the telemetry only the
// views need (temperature, power, per-workload memory). Plain values.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy_input.h"

namespace memopt::daemon {

struct GpuTelemetry {
  std::optional<double> temperature_c;
  std::optional<double> power_watts;
};

// An AI workload (process group) and the memory it holds.
struct WorkloadMemory {
  std::string runtime;
  std::string model;
  int pid = 0;
  uint64_t vram_bytes = 0;
  uint64_t rss_bytes = 0;
};

struct CollectorError {
  std::string collector;  // "host", "gpu", "runtimes", ...
  std::string message;
};

struct Sample {
  int64_t unix_ms = 0;
  nlohmann::json status;  // the Snapshot document (ruvector-memopt.status/1)
  policy::PolicyInput input;
  std::map<int, GpuTelemetry> telemetry;
  std::vector<WorkloadMemory> workloads;
  std::vector<CollectorError> errors;
};

// Where samples come from: the real machine (system_sampler.h) or a test.
class Sampler {
 public:
  virtual ~Sampler() = default;
  // `now_seconds` is the daemon's monotonic clock, copied into the input.
  virtual Sample sample(double now_seconds) = 0;
};

}  // namespace memopt::daemon
