#pragma once
// The actuator steps behind ai unload, vram clear and vram defrag: ask the
// runtime to free a model, then verify that the memory really came back by
// polling the runtime and the GPUs (users report runtimes that "unload" but
// keep the VRAM).
#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "gpu/gpu_device.h"
#include "runtimes/runtime.h"

namespace memopt::actuator {

struct VerifyOptions {
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds poll{250};
  gpu::GpuRoots gpu_roots;
};

struct UnloadReport {
  std::string runtime, endpoint, model;
  bool accepted = false;  // the runtime took the request
  bool gone = false;      // no longer listed as loaded (or now sleeping)
  std::optional<uint64_t> held_bytes, held_vram_bytes;  // what the runtime said it held
  std::optional<uint64_t> gpu_used_before_bytes, gpu_used_after_bytes;
  bool gpu_memory_returned = false;  // GPU use dropped by at least half of held_vram_bytes
  double waited_s = 0;
  std::string error;
};

// Sum of memory_used_bytes over every GPU; nullopt when no GPU reports it.
std::optional<uint64_t> gpu_used_bytes(const gpu::GpuRoots& roots);

UnloadReport unload_and_verify(const runtimes::RuntimeClient& client,
                               const runtimes::LoadedModel& model, const VerifyOptions& options);

void print_unload_report(std::ostream& out, const UnloadReport& r);
nlohmann::json unload_report_json(const UnloadReport& r);
// True when the unload was accepted and the model is gone.
inline bool unload_ok(const UnloadReport& r) { return r.accepted && r.gone; }

}  // namespace memopt::actuator
