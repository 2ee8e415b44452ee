// The NVIDIA driver's NVML on Windows: nvml.dll, in System32 since driver
// R418 (loaded from the system directories only, never the current one).
#include "gpu/gpu_backend.h"

namespace memopt::gpu {
extern const char* const kDefaultNvmlLibrary = "nvml.dll";
}  // namespace memopt::gpu
