#pragma once
// One backend per vendor behind one interface (nvtop's shape): adding a vendor
// is one new file plus one line in make_gpu_backends(). Backends only read.
#include <memory>
#include <string_view>
#include <vector>

#include "gpu/drm_fdinfo.h"
#include "gpu/gpu_device.h"

namespace memopt::gpu {

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  virtual std::string_view name() const = 0;
  // Appends this backend's GPUs to `snapshot.gpus` and any backend-level
  // problem to `snapshot.notes`. `fdinfo` is the shared DRM client sweep,
  // done at most once per sample and only if a DRM backend asks for it.
  virtual void sample(GpuSnapshot& snapshot, DrmClientSweep& fdinfo) = 0;
};

// NVML's library when GpuRoots names none: libnvidia-ml.so.1 on Linux
// (nvml_library_linux.cc), nvml.dll from System32 on Windows (_win.cc).
extern const char* const kDefaultNvmlLibrary;
std::unique_ptr<GpuBackend> make_nvml_backend(const GpuRoots& roots);
std::unique_ptr<GpuBackend> make_amdgpu_backend(const GpuRoots& roots);
std::unique_ptr<GpuBackend> make_intel_backend(const GpuRoots& roots);

// DXGI adapters and "GPU Process Memory" counters (Windows only).
std::unique_ptr<GpuBackend> make_dxgi_backend(const GpuRoots& roots);

// Every vendor backend of this system, in the order GPUs are listed
// (backends_linux.cc, backends_win.cc).
std::vector<std::unique_ptr<GpuBackend>> make_gpu_backends(const GpuRoots& roots);

}  // namespace memopt::gpu
