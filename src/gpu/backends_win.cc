// Windows: NVML (nvml.dll) first, then every other adapter through DXGI; the
// DXGI backend leaves out NVIDIA adapters NVML already listed.
#include "gpu/gpu_backend.h"

namespace memopt::gpu {

std::vector<std::unique_ptr<GpuBackend>> make_gpu_backends(const GpuRoots& roots) {
  std::vector<std::unique_ptr<GpuBackend>> b;
  b.push_back(make_nvml_backend(roots));
  b.push_back(make_dxgi_backend(roots));
  return b;
}

}  // namespace memopt::gpu
