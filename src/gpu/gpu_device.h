#pragma once
// What every GPU backend reports: one GpuDevice per GPU, the same record for
// NVIDIA, AMD and Intel, so the planner, the detector, the daemon and the
// views never ask which vendor they are looking at. Each optional field is
// empty when the source cannot say; `unavailable` then names why, so one
// missing field never hides the rest.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace memopt::gpu {

enum class Vendor { kNvidia, kAmd, kIntel, kOther };

// Which list a process came from: NVML keeps compute and graphics contexts
// apart; DRM fdinfo does not say, so those are kUnknown.
enum class ProcessKind { kCompute, kGraphics, kUnknown };

struct GpuProcess {
  uint32_t pid = 0;
  ProcessKind kind = ProcessKind::kUnknown;
  // Device memory the process holds on this GPU. Empty when the driver cannot
  // attribute it (NVML reports "not available" under WDDM or MIG without
  // privilege).
  std::optional<uint64_t> used_bytes;
  // Host memory the GPU maps for it (GTT / system region); counted as GPU
  // memory on integrated GPUs, where it is the main pool.
  uint64_t shared_bytes = 0;
};

// Why the clocks are held down; from NVML's clock-event mask or unknown.
struct ThrottleReasons {
  uint64_t raw_mask = 0;  // NVML nvmlClocksEventReasons bits
  bool thermal = false;
  bool power = false;
  bool other = false;  // any other non-idle reason (sync boost, app clocks)
};

// One MIG slice of an NVIDIA GPU: to CUDA it is a GPU of its own, so the
// planner needs its memory and the detector its processes.
struct MigInstance {
  std::string uuid;  // "MIG-…", what CUDA_VISIBLE_DEVICES takes
  std::optional<uint32_t> gpu_instance_id;
  std::optional<uint32_t> compute_instance_id;
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> memory_used_bytes;
  std::optional<uint64_t> memory_free_bytes;
  std::vector<GpuProcess> processes;
  std::map<std::string, std::string> unavailable;
};

struct GpuDevice {
  uint32_t index = 0;  // position in the collected list, stable per boot
  // The vendor's own number: NVML index (nvidia-smi's, PCI order; a lost GPU
  // leaves a gap, so it can differ from `index`) or the DRM card number.
  uint32_t backend_index = 0;
  Vendor vendor = Vendor::kOther;
  std::string backend;  // "nvml", "amdgpu", "i915", "xe"
  std::string name;
  std::string uuid;        // NVML "GPU-…"; AMD unique_id; empty if unknown
  std::string pci_bus_id;  // "0000:01:00.0", the sysfs spelling
  std::optional<int> numa_node;

  // Integrated GPU: its memory is host RAM, so `memory_*` describe the pool
  // the GPU can use (carve-out + GTT, or the host's RAM), not dedicated VRAM.
  bool integrated = false;
  std::optional<uint64_t> memory_total_bytes;
  std::optional<uint64_t> memory_used_bytes;
  std::optional<uint64_t> memory_free_bytes;
  std::optional<uint64_t> memory_reserved_bytes;  // NVML v2: driver/firmware
  std::optional<uint64_t> shared_total_bytes;     // AMD GTT
  std::optional<uint64_t> shared_used_bytes;
  // Where the memory figures come from: "nvml_v2", "nvml_v1", "host_meminfo",
  // "sysfs", "sysfs+gtt", "fdinfo_sum".
  std::string memory_source;

  std::optional<uint32_t> utilization_percent;
  std::optional<uint32_t> memory_utilization_percent;
  std::optional<double> temperature_c;
  std::optional<double> temperature_slowdown_c;
  std::optional<double> temperature_shutdown_c;
  std::optional<double> power_draw_watts;
  std::optional<double> power_limit_watts;
  std::optional<uint32_t> clock_graphics_mhz;
  std::optional<uint32_t> clock_graphics_max_mhz;
  std::optional<uint32_t> clock_memory_mhz;
  std::optional<ThrottleReasons> throttle;
  std::optional<uint32_t> pcie_link_gen;
  std::optional<uint32_t> pcie_link_width;
  std::optional<bool> mig_enabled;
  std::optional<bool> mig_pending;
  std::vector<MigInstance> mig_instances;  // only with MIG enabled

  // Largest first after collect_gpus(); pid unique per device.
  std::vector<GpuProcess> processes;
  // field name (as in the JSON) → why it is empty: "not supported",
  // "no permission", "GPU is lost", "not exposed by the driver", ...
  std::map<std::string, std::string> unavailable;
};

// Roots are parameters so tests point every backend at fixture trees and at a
// fake NVML library.
struct GpuRoots {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;  // empty: the system's libnvidia-ml.so.1
};

// A backend-level fact: "libnvidia-ml.so.1 not found (no NVIDIA driver)" is
// information; "NVIDIA GPU 3 is lost; reset it or reboot" is a warning.
struct GpuNote {
  std::string backend;
  std::string message;
  bool warning = false;
};

struct GpuSnapshot {
  std::vector<GpuDevice> gpus;
  std::vector<GpuNote> notes;
};

const char* vendor_name(Vendor v);
const char* process_kind_name(ProcessKind k);

}  // namespace memopt::gpu
