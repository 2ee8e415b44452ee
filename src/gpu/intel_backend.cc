// Intel backend (i915 and xe): sysfs for frequency, hwmon and xe's VRAM size,
// DRM fdinfo for per-process memory. Device-level "used" needs a query ioctl
// and CAP_PERFMON (nvtop README), so used memory here is the sum over the
// clients we can see, and says so in memory_source.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "gpu/drm_cards.h"
#include "util/fs_read.h"
#include "gpu/gpu_backend.h"
#include "proc/host_memory.h"

namespace memopt::gpu {
namespace {

// fdinfo regions: i915 "local0" / xe "vram0" live on the card; "system0",
// "system", "gtt" are host RAM the GPU maps (drm-usage-stats.rst, §5).
bool is_device_region(const std::string& r) {
  return r.starts_with("vram") || r.starts_with("local");
}
bool is_host_region(const std::string& r) { return r.starts_with("system") || r == "gtt"; }

class IntelBackend final : public GpuBackend {
 public:
  explicit IntelBackend(GpuRoots roots) : roots_(std::move(roots)) {}
  std::string_view name() const override { return "intel"; }

  void sample(GpuSnapshot& snap, DrmClientSweep& fdinfo) override {
    for (const auto& c : list_drm_cards(roots_.sys_root)) {
      if (c.driver != "i915" && c.driver != "xe") continue;
      snap.gpus.push_back(read_card(c, fdinfo));
    }
  }

 private:
  GpuDevice read_card(const DrmCard& c, DrmClientSweep& fdinfo) {
    GpuDevice d;
    d.vendor = Vendor::kIntel;
    d.backend = c.driver;
    d.backend_index = c.number;
    d.pci_bus_id = c.pci_slot;
    d.numa_node = c.numa_node;
    d.name = fmt::format("Intel GPU [{}]", c.pci_id);
    const std::string& dev = c.dev_dir;

    // xe prints each tile's VRAM (xe_tile_sysfs.c physical_vram_size_bytes).
    std::optional<uint64_t> vram_total;
    for (const auto& t : list_dir(dev)) {
      if (!t.starts_with("tile")) continue;
      if (auto b = read_u64(dev + "/" + t + "/physical_vram_size_bytes"))
        vram_total = vram_total.value_or(0) + *b;
    }
    // Intel's integrated GPU is always PCI device 00:02.0; discrete Arc
    // cards sit behind a bridge on another bus.
    d.integrated = c.pci_slot.ends_with(":00:02.0") || (c.driver == "xe" && !vram_total);

    uint64_t device_sum = 0, host_sum = 0;
    std::map<uint32_t, GpuProcess> by_pid;
    for (const auto& [pid, regions] : fdinfo.usage_for(c.pci_slot, c.driver)) {
      GpuProcess p;
      p.pid = pid;
      uint64_t dev_b = 0, host_b = 0;
      for (const auto& [r, b] : regions) {
        if (is_device_region(r))
          dev_b += b;
        else if (is_host_region(r))
          host_b += b;
      }
      if (dev_b == 0 && host_b == 0) continue;
      p.used_bytes = dev_b;
      p.shared_bytes = host_b;
      device_sum += dev_b;
      host_sum += host_b;
      d.processes.push_back(p);
    }

    if (d.integrated) {
      // Shared memory: the pool is the host's RAM, not 0 bytes of VRAM.
      auto text = read_small_file(roots_.proc_root + "/meminfo");
      auto mi = text ? proc::parse_meminfo(*text) : Result<proc::MemInfo>(make_error("unreadable"));
      if (mi) {
        d.memory_total_bytes = mi->total_bytes;
        d.memory_free_bytes = mi->available_bytes;
      } else {
        d.unavailable["memory_total_bytes"] = roots_.proc_root + "/meminfo unreadable";
      }
      d.memory_used_bytes = device_sum + host_sum;
      d.memory_source = "host_meminfo+fdinfo_sum";
    } else if (vram_total) {
      d.memory_total_bytes = *vram_total;
      d.memory_used_bytes = std::min(device_sum, *vram_total);
      d.memory_free_bytes = *vram_total - *d.memory_used_bytes;
      d.memory_source = "fdinfo_sum";
      d.shared_used_bytes = host_sum;
    } else {
      for (const char* f : {"memory_total_bytes", "memory_free_bytes"})
        d.unavailable[f] = "i915 reports device memory only through a query ioctl (not read)";
      d.memory_used_bytes = device_sum;
      d.memory_source = "fdinfo_sum";
    }
    d.unavailable["memory_reserved_bytes"] = "not exposed by " + c.driver;
    d.unavailable["throttle"] = "not read for Intel GPUs";

    // i915: temp1_input; xe: temp2_input (package). Units (hwmon ABI): m°C,
    // µW, energy in µJ.
    std::string hw = find_hwmon(dev);
    std::optional<uint64_t> energy_uj;
    if (!hw.empty()) {
      auto t = read_i64(hw + (c.driver == "xe" ? "/temp2_input" : "/temp1_input"));
      if (t) d.temperature_c = *t / 1000.0;
      if (auto p = read_u64(hw + "/power1_max")) d.power_limit_watts = *p / 1e6;
      energy_uj = read_u64(hw + "/energy1_input");
    }
    if (!d.temperature_c)
      d.unavailable["temperature_c"] = "no hwmon temperature (usual on integrated GPUs)";
    sample_rates(c, fdinfo.clients_for(c.pci_slot, c.driver), energy_uj, d);

    std::optional<uint64_t> cur, max;
    if (c.driver == "xe") {
      cur = read_u64(dev + "/tile0/gt0/freq0/cur_freq");
      max = read_u64(dev + "/tile0/gt0/freq0/max_freq");
    } else {
      std::string card = dev.substr(0, dev.size() - std::string("/device").size());
      cur = read_u64(card + "/gt_cur_freq_mhz");
      max = read_u64(card + "/gt_max_freq_mhz");
    }
    if (cur) d.clock_graphics_mhz = static_cast<uint32_t>(*cur);
    if (max) d.clock_graphics_max_mhz = static_cast<uint32_t>(*max);
    if (auto s = read_line(dev + "/current_link_speed")) d.pcie_link_gen = pcie_gen_from_speed(*s);
    if (auto w = read_u64(dev + "/current_link_width"))
      d.pcie_link_width = static_cast<uint32_t>(*w);
    return d;
  }

  // Utilization and power are rates: Intel exposes only cumulative engine
  // counters and an energy counter, so they need the previous sample of the
  // same card. A one-shot `vram status` has none; the daemon and watch do.
  void sample_rates(const DrmCard& c, std::vector<DrmFdinfo> clients,
                    std::optional<uint64_t> energy_uj, GpuDevice& d) {
    auto now = std::chrono::steady_clock::now();
    CardState& st = prev_[c.pci_slot];
    const char* why = "needs a previous sample (shown by the daemon and watch)";
    if (st.valid) {
      auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(now - st.at).count();
      uint64_t wall_ns = wall > 0 ? static_cast<uint64_t>(wall) : 0;
      if (auto busy = drm_busy_percent(st.clients, clients, wall_ns)) {
        d.utilization_percent = static_cast<uint32_t>(std::lround(*busy));
      }
      // Energy counters wrap or reset on driver reload: skip a decrease.
      if (energy_uj && st.energy_uj && *energy_uj >= *st.energy_uj && wall_ns > 0) {
        d.power_draw_watts = static_cast<double>(*energy_uj - *st.energy_uj) / 1e6 /
                             (static_cast<double>(wall_ns) / 1e9);
      }
      why = "no client or counter common to both samples";
    }
    if (!d.utilization_percent) d.unavailable["utilization_percent"] = why;
    if (!d.power_draw_watts)
      d.unavailable["power_draw_watts"] = energy_uj ? why : "no hwmon energy1_input";
    st = CardState{std::move(clients), now, energy_uj, true};
  }

  struct CardState {
    std::vector<DrmFdinfo> clients;
    std::chrono::steady_clock::time_point at;
    std::optional<uint64_t> energy_uj;
    bool valid = false;
  };

  GpuRoots roots_;
  std::map<std::string, CardState> prev_;  // by PCI slot
};

}  // namespace

std::unique_ptr<GpuBackend> make_intel_backend(const GpuRoots& roots) {
  return std::make_unique<IntelBackend>(roots);
}

}  // namespace memopt::gpu
