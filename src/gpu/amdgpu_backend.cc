// AMD backend: amdgpu sysfs for the device (mem_info_* in bytes,
// gpu_busy_percent, hwmon), DRM fdinfo for per-process VRAM and GTT, and the
// KFD tree for ROCm compute processes (research/gpu-monitoring.md §4).
#include <fmt/format.h>

#include <algorithm>

#include "gpu/drm_cards.h"
#include "util/fs_read.h"
#include "gpu/gpu_backend.h"

namespace memopt::gpu {
namespace {

constexpr const char* kKfd = "/class/kfd/kfd";

// A KFD topology node that is a GPU: its gpu_id keys /proc/<pid>/vram_<id>;
// cpu_cores_count > 0 on a GPU node means an APU (CPU and GPU in one node).
struct KfdGpu {
  uint64_t gpu_id = 0;
  bool apu = false;
};

std::map<std::string, KfdGpu> read_kfd_topology(const std::string& sys_root) {
  std::map<std::string, KfdGpu> by_slot;
  std::string nodes = sys_root + kKfd + "/topology/nodes";
  for (const auto& n : list_dir(nodes)) {
    std::string dir = nodes + "/" + n;
    auto gpu_id = read_u64(dir + "/gpu_id");
    if (!gpu_id || *gpu_id == 0) continue;  // CPU-only node
    auto props = read_small_file(dir + "/properties");
    if (!props) continue;
    uint64_t location = 0, domain = 0, cores = 0;
    bool has_location = false;
    std::string_view text = *props;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = trim(text.substr(0, nl));
      text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
      size_t sp = line.find(' ');
      if (sp == std::string_view::npos) continue;
      auto v = parse_u64(line.substr(sp + 1));
      if (!v) continue;
      std::string_view k = line.substr(0, sp);
      if (k == "location_id")
        location = *v, has_location = true;
      else if (k == "domain")
        domain = *v;
      else if (k == "cpu_cores_count")
        cores = *v;
    }
    if (!has_location) continue;
    // location_id = bus << 8 | devfn (kfd_topology.c), devfn = dev << 3 | fn.
    std::string slot = fmt::format("{:04x}:{:02x}:{:02x}.{:x}", domain & 0xffff,
                                   (location >> 8) & 0xff, (location >> 3) & 0x1f, location & 0x7);
    by_slot[slot] = {*gpu_id, cores > 0};
  }
  return by_slot;
}

class AmdgpuBackend final : public GpuBackend {
 public:
  explicit AmdgpuBackend(GpuRoots roots) : roots_(std::move(roots)) {}
  std::string_view name() const override { return "amdgpu"; }

  void sample(GpuSnapshot& snap, DrmClientSweep& fdinfo) override {
    std::vector<DrmCard> cards;
    for (auto& c : list_drm_cards(roots_.sys_root)) {
      if (c.driver == "amdgpu") cards.push_back(std::move(c));
    }
    if (cards.empty()) return;
    auto kfd = read_kfd_topology(roots_.sys_root);
    for (const auto& c : cards) snap.gpus.push_back(read_card(c, kfd, fdinfo));
  }

 private:
  GpuDevice read_card(const DrmCard& c, const std::map<std::string, KfdGpu>& kfd,
                      DrmClientSweep& fdinfo) {
    GpuDevice d;
    d.vendor = Vendor::kAmd;
    d.backend = "amdgpu";
    d.backend_index = c.number;
    d.pci_bus_id = c.pci_slot;
    d.numa_node = c.numa_node;
    const std::string& dev = c.dev_dir;
    auto product = read_line(dev + "/product_name");  // only on boards with a FRU EEPROM
    d.name = product && !product->empty() ? *product : fmt::format("AMD GPU [{}]", c.pci_id);
    if (auto id = read_line(dev + "/unique_id")) d.uuid = *id;

    auto vram_total = read_u64(dev + "/mem_info_vram_total");
    auto vram_used = read_u64(dev + "/mem_info_vram_used");
    auto gtt_total = read_u64(dev + "/mem_info_gtt_total");
    auto gtt_used = read_u64(dev + "/mem_info_gtt_used");
    d.shared_total_bytes = gtt_total;
    d.shared_used_bytes = gtt_used;

    auto k = kfd.find(c.pci_slot);
    if (k != kfd.end()) {
      d.integrated = k->second.apu;
    } else if (vram_total && gtt_total) {
      // Without KFD: an APU's VRAM is a BIOS carve-out (512 MiB to 2 GiB by
      // default) far below its GTT; no discrete card an LLM user runs has
      // that little VRAM.
      d.integrated = *vram_total <= (2ULL << 30) && *gtt_total > *vram_total;
    }
    if (vram_total && vram_used) {
      if (d.integrated && gtt_total && gtt_used) {
        // On an APU the GTT (host RAM mapped for the GPU) is the main pool:
        // a 24 GB model shows as a few MiB of "VRAM" otherwise (nvtop #492).
        d.memory_total_bytes = *vram_total + *gtt_total;
        d.memory_used_bytes = *vram_used + *gtt_used;
        d.memory_source = "sysfs+gtt";
      } else {
        d.memory_total_bytes = *vram_total;
        d.memory_used_bytes = *vram_used;
        d.memory_source = "sysfs";
      }
      d.memory_free_bytes =
          *d.memory_total_bytes - std::min(*d.memory_used_bytes, *d.memory_total_bytes);
    } else {
      for (const char* f : {"memory_total_bytes", "memory_used_bytes", "memory_free_bytes"})
        d.unavailable[f] = "mem_info_vram_total/used unreadable in " + dev;
    }
    d.unavailable["memory_reserved_bytes"] = "not exposed by amdgpu";

    if (auto busy = read_u64(dev + "/gpu_busy_percent"))
      d.utilization_percent = static_cast<uint32_t>(std::min<uint64_t>(*busy, 100));
    else
      d.unavailable["utilization_percent"] = "gpu_busy_percent unreadable";
    if (auto mbusy = read_u64(dev + "/mem_busy_percent"))
      d.memory_utilization_percent = static_cast<uint32_t>(std::min<uint64_t>(*mbusy, 100));

    // hwmon units (amdgpu_pm.c docs): temperatures in millidegrees C, power
    // in microwatts, frequencies in Hz.
    std::string hw = find_hwmon(dev);
    if (!hw.empty()) {
      if (auto t = read_i64(hw + "/temp1_input")) d.temperature_c = *t / 1000.0;
      if (auto t = read_i64(hw + "/temp1_crit")) d.temperature_slowdown_c = *t / 1000.0;
      if (auto t = read_i64(hw + "/temp1_emergency")) d.temperature_shutdown_c = *t / 1000.0;
      // Newer ASICs only have power1_input (amdgpu_top tries both).
      auto p = read_u64(hw + "/power1_average");
      if (!p) p = read_u64(hw + "/power1_input");
      if (p) d.power_draw_watts = *p / 1e6;
      if (auto cap = read_u64(hw + "/power1_cap")) d.power_limit_watts = *cap / 1e6;
      if (auto f = read_u64(hw + "/freq1_input"))
        d.clock_graphics_mhz = static_cast<uint32_t>(*f / 1000000);
      if (auto f = read_u64(hw + "/freq2_input"))
        d.clock_memory_mhz = static_cast<uint32_t>(*f / 1000000);
    }
    if (!d.temperature_c) d.unavailable["temperature_c"] = "no hwmon temp1_input";
    if (!d.power_draw_watts)
      d.unavailable["power_draw_watts"] = "no hwmon power1_average/power1_input";
    d.unavailable["throttle"] = "amdgpu reports it only in the binary gpu_metrics table (not read)";
    if (auto s = read_line(dev + "/current_link_speed")) d.pcie_link_gen = pcie_gen_from_speed(*s);
    if (auto w = read_u64(dev + "/current_link_width"))
      d.pcie_link_width = static_cast<uint32_t>(*w);

    read_processes(c, k != kfd.end() ? std::optional<uint64_t>(k->second.gpu_id) : std::nullopt,
                   fdinfo, d);
    return d;
  }

  void read_processes(const DrmCard& c, std::optional<uint64_t> kfd_gpu_id, DrmClientSweep& fdinfo,
                      GpuDevice& d) {
    std::map<uint32_t, GpuProcess> by_pid;
    for (const auto& [pid, regions] : fdinfo.usage_for(c.pci_slot, "amdgpu")) {
      GpuProcess p;
      p.pid = pid;
      auto v = regions.find("vram");
      auto g = regions.find("gtt");
      p.used_bytes = v != regions.end() ? v->second : 0;
      p.shared_bytes = g != regions.end() ? g->second : 0;
      if (*p.used_bytes == 0 && p.shared_bytes == 0) continue;  // a compositor's idle context
      by_pid[pid] = p;
    }
    if (kfd_gpu_id) {
      // ROCm allocations go through /dev/kfd and may be missing from fdinfo
      // (amdgpu_top #49). The same buffers can appear in both, so take the
      // larger per pid rather than the sum.
      std::string procs = roots_.sys_root + kKfd + "/proc";
      std::string file = fmt::format("vram_{}", *kfd_gpu_id);
      for (const auto& name : list_dir(procs)) {
        auto pid = parse_pid(name);
        if (!pid) continue;
        auto bytes = read_u64(procs + "/" + name + "/" + file);
        if (!bytes || *bytes == 0) continue;
        GpuProcess& p = by_pid[*pid];
        p.pid = *pid;
        p.kind = ProcessKind::kCompute;
        p.used_bytes = std::max(p.used_bytes.value_or(0), *bytes);
      }
    }
    for (auto& [pid, p] : by_pid) d.processes.push_back(p);
  }

  GpuRoots roots_;
};

}  // namespace

std::unique_ptr<GpuBackend> make_amdgpu_backend(const GpuRoots& roots) {
  return std::make_unique<AmdgpuBackend>(roots);
}

}  // namespace memopt::gpu
