// The NVIDIA driver's NVML on Linux (the soname its packages install).
#include "gpu/gpu_backend.h"

namespace memopt::gpu {
extern const char* const kDefaultNvmlLibrary = "libnvidia-ml.so.1";
}  // namespace memopt::gpu
