// NVIDIA backend: NVML loaded with dlopen, so the program runs (and builds)
// where there is no NVIDIA driver. Only the entry points we call are declared
// here, with the layouts of NVIDIA's public nvml.h (API v13; sizes checked on
// x86_64, see research/gpu-monitoring.md §2). Every call is checked on its
// own: NOT_SUPPORTED, NO_PERMISSION or GPU_IS_LOST empties one field and says
// why, never the whole device.
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "util/fs_read.h"
#include "gpu/gpu_backend.h"
#include "proc/host_memory.h"

namespace memopt::gpu {
namespace {

using NvmlReturn = int;  // nvmlReturn_t is a C enum: int-sized
using NvmlDevice = void*;

constexpr NvmlReturn kSuccess = 0;
constexpr NvmlReturn kNotSupported = 3;
constexpr NvmlReturn kNoPermission = 4;
constexpr NvmlReturn kNotFound = 6;
constexpr NvmlReturn kInsufficientSize = 7;
constexpr NvmlReturn kGpuIsLost = 15;

struct NvmlMemoryV1 {
  unsigned long long total, free, used;  // v1 `used` includes reserved memory
};
struct NvmlMemoryV2 {
  unsigned int version;
  unsigned long long total, reserved, free, used;
};
static_assert(sizeof(NvmlMemoryV1) == 24 && sizeof(NvmlMemoryV2) == 40);
// NVML_STRUCT_VERSION(Memory, 2) = sizeof | 2 << 24 = 0x02000028. The header's
// "must be 2" comment is wrong; the literal 2 is rejected (nvidia-settings #78).
constexpr unsigned int kMemoryV2Version = static_cast<unsigned>(sizeof(NvmlMemoryV2)) | (2u << 24);
static_assert(kMemoryV2Version == 0x02000028);

struct NvmlUtilization {
  unsigned int gpu, memory;
};
struct NvmlPciInfo {
  char bus_id_legacy[16];  // the v1 struct's busId sits here too
  unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
  char bus_id[32];
};
static_assert(sizeof(NvmlPciInfo) == 68);

// Process records: pid @0 and usedGpuMemory @8 in every version; the stride
// differs (16 v1, 24 v2/v3, 32 on early R535 drivers).
constexpr size_t kProcV1Stride = 16;
constexpr size_t kProcV2Stride = 24;
constexpr size_t kProcR535Stride = 32;
constexpr unsigned kMaxProcesses = 16384;  // bounds what a broken driver can make us allocate

using FnVoid = NvmlReturn (*)();
using FnUintPtr = NvmlReturn (*)(unsigned int*);
using FnHandleByIndex = NvmlReturn (*)(unsigned int, NvmlDevice*);
using FnDevString = NvmlReturn (*)(NvmlDevice, char*, unsigned int);
using FnDevPtr = NvmlReturn (*)(NvmlDevice, void*);
using FnDevUint = NvmlReturn (*)(NvmlDevice, unsigned int*);
using FnDevEnumUint = NvmlReturn (*)(NvmlDevice, int, unsigned int*);
using FnDevUll = NvmlReturn (*)(NvmlDevice, unsigned long long*);
using FnDevUintUint = NvmlReturn (*)(NvmlDevice, unsigned int*, unsigned int*);
using FnProcs = NvmlReturn (*)(NvmlDevice, unsigned int*, void*);
using FnMigHandle = NvmlReturn (*)(NvmlDevice, unsigned int, NvmlDevice*);

struct ProcFn {
  FnProcs fn = nullptr;
  size_t stride = 0;
  const char* symbol = "";
};

std::string nvml_reason(NvmlReturn r) {
  switch (r) {
    case 2:
      return "invalid argument (NVML_ERROR_INVALID_ARGUMENT)";
    case kNotSupported:
      return "not supported (NVML_ERROR_NOT_SUPPORTED)";
    case kNoPermission:
      return "no permission (NVML_ERROR_NO_PERMISSION)";
    case 9:
      return "driver not loaded (NVML_ERROR_DRIVER_NOT_LOADED)";
    case 12:
      return "library not found (NVML_ERROR_LIBRARY_NOT_FOUND)";
    case 13:
      return "function not found (NVML_ERROR_FUNCTION_NOT_FOUND)";
    case kGpuIsLost:
      return "GPU is lost (NVML_ERROR_GPU_IS_LOST)";
    case 18:
      return "driver/library version mismatch (NVML_ERROR_LIB_RM_VERSION_MISMATCH)";
    case 25:
      return "argument version mismatch (NVML_ERROR_ARGUMENT_VERSION_MISMATCH)";
    default:
      return fmt::format("NVML error {}", r);
  }
}

// "00000000:01:00.0" (NVML) and "0000:01:00.0" (sysfs) name the same device;
// we use the sysfs spelling everywhere.
std::string sysfs_bus_id(const NvmlPciInfo& p) {
  return fmt::format("{:04x}:{:02x}:{:02x}.0", p.domain & 0xffff, p.bus & 0xff, p.device & 0x1f);
}

class NvmlBackend final : public GpuBackend {
 public:
  explicit NvmlBackend(GpuRoots roots) : roots_(std::move(roots)) {}
  ~NvmlBackend() override {
    if (initialised_ && shutdown_) shutdown_();
    if (lib_) dlclose(lib_);
  }
  std::string_view name() const override { return "nvml"; }

  void sample(GpuSnapshot& snap, DrmClientSweep&) override {
    if (!tried_) load(snap);
    if (!initialised_) {
      if (!load_note_.message.empty()) snap.notes.push_back(load_note_);
      return;
    }
    unsigned int count = 0;
    NvmlReturn r = get_count_(&count);
    if (r != kSuccess) {
      snap.notes.push_back({"nvml", "cannot count NVIDIA GPUs: " + nvml_reason(r), true});
      return;
    }
    count = std::min(count, 64u);  // NVML supports at most 64 devices per node
    for (unsigned int i = 0; i < count; ++i) {
      NvmlDevice dev = nullptr;
      r = handle_by_index_(i, &dev);
      if (r != kSuccess) {
        std::string what = r == kGpuIsLost ? "; reset it (nvidia-smi -r) or reboot" : "";
        snap.notes.push_back(
            {"nvml", fmt::format("NVML device {} skipped: {}{}", i, nvml_reason(r), what), true});
        continue;
      }
      snap.gpus.push_back(read_device(dev, i));
    }
  }

 private:
  template <typename F>
  F sym(std::initializer_list<const char*> names, const char** found = nullptr) {
    for (const char* n : names) {
      if (void* p = dlsym(lib_, n)) {
        if (found) *found = n;
        return reinterpret_cast<F>(p);
      }
    }
    return nullptr;
  }

  void load(GpuSnapshot&) {
    tried_ = true;
    if (!roots_.nvml_library.empty()) {
      lib_ = dlopen(roots_.nvml_library.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!lib_) {
        const char* e = dlerror();
        load_note_ = {"nvml",
                      fmt::format("cannot load NVML library {}: {}; check --nvml-library",
                                  roots_.nvml_library, e ? e : "unknown error"),
                      true};
        return;
      }
    } else {
      lib_ = dlopen(kDefaultNvmlLibrary, RTLD_NOW | RTLD_LOCAL);
      if (!lib_) {
        load_note_ = {"nvml",
                      fmt::format("{} not found: no NVIDIA driver, NVIDIA GPUs not listed",
                                  kDefaultNvmlLibrary),
                      false};
        return;
      }
    }
    FnVoid init = sym<FnVoid>({"nvmlInit_v2", "nvmlInit"});
    shutdown_ = sym<FnVoid>({"nvmlShutdown"});
    get_count_ = sym<FnUintPtr>({"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"});
    handle_by_index_ =
        sym<FnHandleByIndex>({"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"});
    if (!init || !get_count_ || !handle_by_index_) {
      load_note_ = {"nvml",
                    "the NVML library lacks nvmlInit/nvmlDeviceGetCount/GetHandleByIndex; "
                    "is it really libnvidia-ml?",
                    true};
      return;
    }
    get_name_ = sym<FnDevString>({"nvmlDeviceGetName"});
    get_uuid_ = sym<FnDevString>({"nvmlDeviceGetUUID"});
    get_pci_ = sym<FnDevPtr>(
        {"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2", "nvmlDeviceGetPciInfo"});
    mem_v2_ = sym<FnDevPtr>({"nvmlDeviceGetMemoryInfo_v2"});
    mem_v1_ = sym<FnDevPtr>({"nvmlDeviceGetMemoryInfo"});
    util_ = sym<FnDevPtr>({"nvmlDeviceGetUtilizationRates"});
    temp_ = sym<FnDevEnumUint>({"nvmlDeviceGetTemperature"});
    temp_threshold_ = sym<FnDevEnumUint>({"nvmlDeviceGetTemperatureThreshold"});
    power_ = sym<FnDevUint>({"nvmlDeviceGetPowerUsage"});
    power_limit_ = sym<FnDevUint>({"nvmlDeviceGetEnforcedPowerLimit"});
    clock_ = sym<FnDevEnumUint>({"nvmlDeviceGetClockInfo"});
    max_clock_ = sym<FnDevEnumUint>({"nvmlDeviceGetMaxClockInfo"});
    // The older name is deprecated in NVML 13 but is all pre-R535 drivers have.
    throttle_ = sym<FnDevUll>(
        {"nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"});
    pcie_gen_ = sym<FnDevUint>({"nvmlDeviceGetCurrPcieLinkGeneration"});
    pcie_width_ = sym<FnDevUint>({"nvmlDeviceGetCurrPcieLinkWidth"});
    mig_mode_ = sym<FnDevUintUint>({"nvmlDeviceGetMigMode"});
    mig_max_ = sym<FnDevUint>({"nvmlDeviceGetMaxMigDeviceCount"});
    mig_handle_ = sym<FnMigHandle>({"nvmlDeviceGetMigDeviceHandleByIndex"});
    gi_id_ = sym<FnDevUint>({"nvmlDeviceGetGpuInstanceId"});
    ci_id_ = sym<FnDevUint>({"nvmlDeviceGetComputeInstanceId"});

    // Early R535 drivers (535.43 to before 535.86) filled the _v3 records
    // with the 32-byte layout. nvitop's discriminator: those drivers export
    // nvmlDeviceGetConfComputeMemSizeInfo but not yet
    // nvmlDeviceGetRunningProcessDetailList. Both are only looked up.
    bool r535_layout = dlsym(lib_, "nvmlDeviceGetConfComputeMemSizeInfo") != nullptr &&
                       dlsym(lib_, "nvmlDeviceGetRunningProcessDetailList") == nullptr;
    for (auto [base, out] :
         {std::pair{"nvmlDeviceGetComputeRunningProcesses", &compute_procs_},
          std::pair{"nvmlDeviceGetGraphicsRunningProcesses", &graphics_procs_}}) {
      std::string v3 = std::string(base) + "_v3", v2 = std::string(base) + "_v2";
      if (auto f = sym<FnProcs>({v3.c_str()})) {
        *out = {f, r535_layout ? kProcR535Stride : kProcV2Stride, "_v3"};
      } else if (auto f2 = sym<FnProcs>({v2.c_str()})) {
        *out = {f2, kProcV2Stride, "_v2"};
      } else if (auto f1 = sym<FnProcs>({base})) {
        *out = {f1, kProcV1Stride, "_v1"};
      }
    }

    NvmlReturn r = init();
    if (r != kSuccess) {
      load_note_ = {"nvml",
                    "nvmlInit failed: " + nvml_reason(r) +
                        "; is the NVIDIA kernel module loaded (nvidia-smi)?",
                    true};
      return;
    }
    initialised_ = true;
  }

  // Records `r` as the reason `field` is empty; true on success.
  static bool ok(GpuDevice& d, const char* field, NvmlReturn r) {
    if (r == kSuccess) return true;
    d.unavailable[field] = nvml_reason(r);
    return false;
  }
  static void missing(GpuDevice& d, const char* field) {
    d.unavailable[field] = "not in this NVML library (driver too old)";
  }

  GpuDevice read_device(NvmlDevice dev, unsigned int i) {
    GpuDevice d;
    d.vendor = Vendor::kNvidia;
    d.backend = "nvml";
    d.backend_index = i;
    char buf[96];  // NVML_DEVICE_NAME_V2_BUFFER_SIZE / UUID_V2 = 96
    std::memset(buf, 0, sizeof buf);
    if (get_name_ && get_name_(dev, buf, sizeof buf - 1) == kSuccess) d.name = buf;
    if (d.name.empty()) d.name = fmt::format("NVIDIA GPU {}", i);
    std::memset(buf, 0, sizeof buf);
    if (get_uuid_ && get_uuid_(dev, buf, sizeof buf - 1) == kSuccess) d.uuid = buf;

    NvmlPciInfo pci{};
    if (get_pci_ && get_pci_(dev, &pci) == kSuccess) {
      d.pci_bus_id = sysfs_bus_id(pci);
      auto numa = read_i64(roots_.sys_root + "/bus/pci/devices/" + d.pci_bus_id + "/numa_node");
      if (numa && *numa >= 0) d.numa_node = static_cast<int>(*numa);
    }

    read_memory(dev, d);

    NvmlUtilization u{};
    if (!util_)
      missing(d, "utilization_percent");
    else if (ok(d, "utilization_percent", util_(dev, &u))) {
      d.utilization_percent = std::min(u.gpu, 100u);
      d.memory_utilization_percent = std::min(u.memory, 100u);
    }
    unsigned int v = 0;
    if (!temp_)
      missing(d, "temperature_c");
    else if (ok(d, "temperature_c", temp_(dev, 0 /* NVML_TEMPERATURE_GPU */, &v)))
      d.temperature_c = v;
    if (temp_threshold_) {
      if (ok(d, "temperature_slowdown_c", temp_threshold_(dev, 1 /* SLOWDOWN */, &v)))
        d.temperature_slowdown_c = v;
      if (ok(d, "temperature_shutdown_c", temp_threshold_(dev, 0 /* SHUTDOWN */, &v)))
        d.temperature_shutdown_c = v;
    }
    // NVML reports power in milliwatts.
    if (!power_)
      missing(d, "power_draw_watts");
    else if (ok(d, "power_draw_watts", power_(dev, &v)))
      d.power_draw_watts = v / 1000.0;
    if (power_limit_ && ok(d, "power_limit_watts", power_limit_(dev, &v)))
      d.power_limit_watts = v / 1000.0;
    if (clock_ && ok(d, "clock_graphics_mhz", clock_(dev, 0 /* GRAPHICS */, &v)))
      d.clock_graphics_mhz = v;
    if (clock_ && ok(d, "clock_memory_mhz", clock_(dev, 2 /* MEM */, &v))) d.clock_memory_mhz = v;
    if (max_clock_ && ok(d, "clock_graphics_max_mhz", max_clock_(dev, 0, &v)))
      d.clock_graphics_max_mhz = v;
    unsigned long long mask = 0;
    if (!throttle_)
      missing(d, "throttle");
    else if (ok(d, "throttle", throttle_(dev, &mask))) {
      // nvmlClocksEventReasons bits (nvml.h): 0x4 SwPowerCap, 0x80
      // HwPowerBrakeSlowdown → power; 0x20 SwThermal, 0x40 HwThermal →
      // thermal; 0x8 HwSlowdown (thermal or power brake) and 0x10 SyncBoost
      // → other. 0x1 idle, 0x2 application clocks, 0x100 display are not
      // throttling.
      ThrottleReasons t;
      t.raw_mask = mask;
      t.power = (mask & (0x4ULL | 0x80ULL)) != 0;
      t.thermal = (mask & (0x20ULL | 0x40ULL)) != 0;
      t.other = (mask & (0x8ULL | 0x10ULL)) != 0;
      d.throttle = t;
    }
    if (pcie_gen_ && ok(d, "pcie_link_gen", pcie_gen_(dev, &v))) d.pcie_link_gen = v;
    if (pcie_width_ && ok(d, "pcie_link_width", pcie_width_(dev, &v))) d.pcie_link_width = v;
    if (mig_mode_) {
      unsigned int cur = 0, pending = 0;
      NvmlReturn r = mig_mode_(dev, &cur, &pending);
      if (r == kSuccess) {
        d.mig_enabled = cur == 1;
        d.mig_pending = pending == 1;
      } else if (r == kNotSupported) {
        d.mig_enabled = false;  // a GPU without MIG support runs without MIG
      } else {
        ok(d, "mig_enabled", r);
      }
    }
    read_processes(dev, d);
    return d;
  }

  void read_memory(NvmlDevice dev, GpuDevice& d) {
    NvmlReturn r2 = -1, r1 = -1;
    if (mem_v2_) {
      NvmlMemoryV2 m{};
      m.version = kMemoryV2Version;
      r2 = mem_v2_(dev, &m);
      if (r2 == kSuccess && m.total > 0) {
        d.memory_total_bytes = m.total;
        d.memory_reserved_bytes = m.reserved;
        d.memory_free_bytes = m.free;
        d.memory_used_bytes = m.used;  // allocations only, as nvidia-smi shows
        d.memory_source = "nvml_v2";
        return;
      }
    }
    if (mem_v1_ && r2 != kGpuIsLost) {
      NvmlMemoryV1 m{};
      r1 = mem_v1_(dev, &m);
      if (r1 == kSuccess && m.total > 0) {
        d.memory_total_bytes = m.total;
        d.memory_free_bytes = m.free;
        d.memory_used_bytes = m.used;  // includes reserved: v1 cannot split it
        d.memory_source = "nvml_v1";
        d.unavailable["memory_reserved_bytes"] = "included in used (NVML v1 memory info)";
        return;
      }
    }
    // When v1 was asked, its answer decides; otherwise v2's. Success here
    // means a zero total, which unified-memory boards also report.
    NvmlReturn r = r1 != -1 ? r1 : r2;
    bool unified = r == kNotSupported || r == kSuccess;
    if (unified) {
      // Unified-memory boards (GB10 / DGX Spark) have no framebuffer: NVML
      // says NOT_SUPPORTED. The GPU allocates host RAM, so show that pool, as
      // nvtop PR #411 and nvitop PR #208 do.
      auto text = read_small_file(roots_.proc_root + "/meminfo");
      auto mi = text ? proc::parse_meminfo(*text) : Result<proc::MemInfo>(make_error("unreadable"));
      d.integrated = true;
      d.unavailable["memory_reserved_bytes"] = "unified memory: no framebuffer";
      if (mi) {
        d.memory_total_bytes = mi->total_bytes;
        d.memory_free_bytes = mi->available_bytes;
        d.memory_used_bytes = mi->total_bytes - mi->available_bytes;
        d.memory_source = "host_meminfo";
      } else {
        d.unavailable["memory_total_bytes"] =
            "unified memory and " + roots_.proc_root + "/meminfo unreadable";
      }
      return;
    }
    std::string why = (mem_v2_ || mem_v1_) ? nvml_reason(r) : "not in this NVML library";
    for (const char* f : {"memory_total_bytes", "memory_used_bytes", "memory_free_bytes"})
      d.unavailable[f] = why;
  }

  // Calls one process-list entry point, growing the buffer while NVML says
  // INSUFFICIENT_SIZE (a process may start between two calls).
  NvmlReturn list_processes(const ProcFn& pf, NvmlDevice dev, ProcessKind kind,
                            std::vector<GpuProcess>& out) {
    unsigned int capacity = 16;
    std::vector<unsigned char> buf;
    for (int attempt = 0; attempt < 8; ++attempt) {
      buf.assign(static_cast<size_t>(capacity) * pf.stride, 0);
      unsigned int n = capacity;
      NvmlReturn r = pf.fn(dev, &n, buf.data());
      if (r == kInsufficientSize) {
        unsigned int want = n > capacity ? n + 8 : capacity * 2;
        if (capacity >= kMaxProcesses) return r;
        capacity = std::min(want, kMaxProcesses);
        continue;
      }
      if (r != kSuccess) return r;
      n = std::min(n, capacity);  // never trust a count past our buffer
      for (unsigned int k = 0; k < n; ++k) {
        const unsigned char* rec = buf.data() + static_cast<size_t>(k) * pf.stride;
        unsigned int pid = 0;
        unsigned long long used = 0;
        std::memcpy(&pid, rec, sizeof pid);
        std::memcpy(&used, rec + 8, sizeof used);
        if (pid == 0) continue;
        GpuProcess p;
        p.pid = pid;
        p.kind = kind;
        // NVML_VALUE_NOT_AVAILABLE (-1) reads as ULLONG_MAX (WDDM, some MIG).
        if (used != ULLONG_MAX) p.used_bytes = used;
        out.push_back(p);
      }
      return kSuccess;
    }
    return kInsufficientSize;
  }

  // Compute and graphics lists of `dev` (a GPU or a MIG handle), merged;
  // the reason both failed, if they did, goes to unavailable["processes"].
  std::vector<GpuProcess> merged_processes(NvmlDevice dev,
                                           std::map<std::string, std::string>& unavailable) {
    std::vector<GpuProcess> all, out;
    NvmlReturn rc = -1, rg = -1;
    if (compute_procs_.fn) rc = list_processes(compute_procs_, dev, ProcessKind::kCompute, all);
    if (graphics_procs_.fn) rg = list_processes(graphics_procs_, dev, ProcessKind::kGraphics, all);
    if (!compute_procs_.fn && !graphics_procs_.fn) {
      unavailable["processes"] = "not in this NVML library (driver too old)";
      return out;
    }
    if (rc != kSuccess && rg != kSuccess) {
      unavailable["processes"] = nvml_reason(rc != -1 ? rc : rg);
      return out;
    }
    // A pid can be in both lists for one context: count its memory once
    // (the larger figure), as gpustat does; compute wins the kind.
    std::map<uint32_t, GpuProcess> by_pid;
    for (const auto& p : all) {
      auto [it, fresh] = by_pid.emplace(p.pid, p);
      if (fresh) continue;
      GpuProcess& q = it->second;
      if (p.used_bytes && (!q.used_bytes || *p.used_bytes > *q.used_bytes))
        q.used_bytes = p.used_bytes;
    }
    for (auto& [pid, p] : by_pid) out.push_back(p);
    return out;
  }

  void read_processes(NvmlDevice dev, GpuDevice& d) {
    d.processes = merged_processes(dev, d.unavailable);
    if (!d.mig_enabled.value_or(false)) return;
    read_mig_instances(dev, d);
    // With MIG, the full-GPU handle lists processes only for root (research
    // §2.4); the per-instance lists are the real source. A process using
    // several slices holds the sum.
    if (!d.processes.empty() || d.mig_instances.empty()) return;
    std::map<uint32_t, GpuProcess> by_pid;
    bool any_list = false;
    for (const auto& m : d.mig_instances) {
      if (!m.unavailable.count("processes")) any_list = true;
      for (const auto& p : m.processes) {
        auto [it, fresh] = by_pid.emplace(p.pid, p);
        if (!fresh && p.used_bytes)
          it->second.used_bytes = it->second.used_bytes.value_or(0) + *p.used_bytes;
      }
    }
    if (!any_list) return;
    d.unavailable.erase("processes");
    for (auto& [pid, p] : by_pid) d.processes.push_back(p);
  }

  void read_mig_instances(NvmlDevice dev, GpuDevice& d) {
    unsigned int max = 0;
    if (!mig_max_ || !mig_handle_ || mig_max_(dev, &max) != kSuccess) {
      d.unavailable["mig_instances"] = "MIG enumeration not available in this NVML library";
      return;
    }
    max = std::min(max, 64u);  // A100/H100 have at most 7 slices
    for (unsigned int k = 0; k < max; ++k) {
      NvmlDevice mig = nullptr;
      NvmlReturn r = mig_handle_(dev, k, &mig);
      if (r == kNotFound) continue;  // an empty slot
      if (r != kSuccess) {
        d.unavailable["mig_instances"] = nvml_reason(r);
        continue;
      }
      MigInstance m;
      char buf[96] = {};
      if (get_uuid_ && get_uuid_(mig, buf, sizeof buf - 1) == kSuccess) m.uuid = buf;
      unsigned int v = 0;
      if (gi_id_ && gi_id_(mig, &v) == kSuccess) m.gpu_instance_id = v;
      if (ci_id_ && ci_id_(mig, &v) == kSuccess) m.compute_instance_id = v;
      NvmlReturn rm = -1;
      if (mem_v2_) {
        NvmlMemoryV2 mem{};
        mem.version = kMemoryV2Version;
        rm = mem_v2_(mig, &mem);
        if (rm == kSuccess) {
          m.memory_total_bytes = mem.total, m.memory_used_bytes = mem.used,
          m.memory_free_bytes = mem.free;
        }
      }
      if (rm != kSuccess && mem_v1_) {
        NvmlMemoryV1 mem{};
        rm = mem_v1_(mig, &mem);
        if (rm == kSuccess) {
          m.memory_total_bytes = mem.total, m.memory_used_bytes = mem.used,
          m.memory_free_bytes = mem.free;
        }
      }
      if (rm != kSuccess) m.unavailable["memory_total_bytes"] = nvml_reason(rm);
      m.processes = merged_processes(mig, m.unavailable);
      d.mig_instances.push_back(std::move(m));
    }
  }

  GpuRoots roots_;
  void* lib_ = nullptr;
  bool tried_ = false;
  bool initialised_ = false;
  GpuNote load_note_;
  FnVoid shutdown_ = nullptr;
  FnUintPtr get_count_ = nullptr;
  FnHandleByIndex handle_by_index_ = nullptr;
  FnDevString get_name_ = nullptr, get_uuid_ = nullptr;
  FnDevPtr get_pci_ = nullptr, mem_v2_ = nullptr, mem_v1_ = nullptr, util_ = nullptr;
  FnDevEnumUint temp_ = nullptr, temp_threshold_ = nullptr, clock_ = nullptr, max_clock_ = nullptr;
  FnDevUint power_ = nullptr, power_limit_ = nullptr, pcie_gen_ = nullptr, pcie_width_ = nullptr;
  FnDevUll throttle_ = nullptr;
  FnDevUintUint mig_mode_ = nullptr;
  FnDevUint mig_max_ = nullptr, gi_id_ = nullptr, ci_id_ = nullptr;
  FnMigHandle mig_handle_ = nullptr;
  ProcFn compute_procs_, graphics_procs_;
};

}  // namespace

std::unique_ptr<GpuBackend> make_nvml_backend(const GpuRoots& roots) {
  return std::make_unique<NvmlBackend>(roots);
}

}  // namespace memopt::gpu
