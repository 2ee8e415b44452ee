#pragma once
// Fixture roots for the gpu tests (tests/fixtures/gpu/<name>/{proc,sys}).
#include <string>

#include "gpu/gpu_device.h"

namespace memopt::gpu::testing {

inline std::string fixture(const std::string& name) {
  return std::string(MEMOPT_SOURCE_DIR) + "/tests/fixtures/gpu/" + name;
}

// NVML pointed at a path that does not exist, so a developer's real NVIDIA
// driver never leaks into fixture tests.
inline GpuRoots fixture_roots(const std::string& name,
                              const std::string& nvml = "/nonexistent/libnvidia-ml.so.1") {
  return GpuRoots{fixture(name) + "/proc", fixture(name) + "/sys", nvml};
}

}  // namespace memopt::gpu::testing
