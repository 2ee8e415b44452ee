// Linux: NVML, then the DRM drivers (amdgpu; i915 and xe).
#include "gpu/gpu_backend.h"

namespace memopt::gpu {

std::vector<std::unique_ptr<GpuBackend>> make_gpu_backends(const GpuRoots& roots) {
  std::vector<std::unique_ptr<GpuBackend>> b;
  b.push_back(make_nvml_backend(roots));
  b.push_back(make_amdgpu_backend(roots));
  b.push_back(make_intel_backend(roots));
  return b;
}

}  // namespace memopt::gpu
