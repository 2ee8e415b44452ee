#pragma once
// Windows GPUs as DXGI and the "GPU Process Memory" performance counters
// describe them, turned into GpuDevices. The readings are plain values so the
// mapping is tested on recorded figures on any system (dxgi_gpus_test.cc);
// dxgi_backend_win.cc reads them live (IDXGIAdapter3, PDH).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/gpu_device.h"
#include "util/result.h"

namespace memopt::gpu {

// One adapter of IDXGIFactory1::EnumAdapters1 (DXGI_ADAPTER_DESC1) with, on
// WDDM 2.0+, IDXGIAdapter3::QueryVideoMemoryInfo(LOCAL).
struct DxgiAdapterReading {
  uint64_t luid = 0;  // (HighPart << 32) | LowPart
  std::string name;
  uint32_t vendor_id = 0;  // PCI: 0x10DE NVIDIA, 0x1002 AMD, 0x8086 Intel
  uint32_t device_id = 0;
  bool software = false;  // DXGI_ADAPTER_FLAG_SOFTWARE (Microsoft Basic Render Driver)
  uint64_t dedicated_video_bytes = 0;
  uint64_t shared_system_bytes = 0;
  std::optional<uint64_t> budget_bytes;  // what the OS lets this process use now
  std::optional<uint64_t> usage_bytes;   // what this process uses
};

// One instance of "\GPU Process Memory(*)\Dedicated Usage" / "Shared Usage".
struct GpuProcessCounter {
  uint32_t pid = 0;
  uint64_t luid = 0;
  uint32_t phys = 0;
  uint64_t dedicated_bytes = 0;
  uint64_t shared_bytes = 0;
};

// "pid_1234_luid_0x00000000_0x0000C3A5_phys_0" → pid 1234, luid 0xC3A5,
// phys 0; nullopt for any other spelling (bounded, hostile names refused).
std::optional<GpuProcessCounter> parse_gpu_process_instance(std::string_view instance);

// Appends one GpuDevice per hardware adapter (software adapters left out;
// NVIDIA adapters left out when `nvidia_listed`: NVML has them, with more),
// with its processes from `counters` matched by LUID. An adapter with no
// counter instance has no processes; a counter whose adapter is gone is
// dropped; counters that could not be read leave `processes` empty with the
// reason in `unavailable` and a note.
void append_dxgi_gpus(const std::vector<DxgiAdapterReading>& adapters,
                      const Result<std::vector<GpuProcessCounter>>& counters, bool nvidia_listed,
                      GpuSnapshot& snapshot);

}  // namespace memopt::gpu
