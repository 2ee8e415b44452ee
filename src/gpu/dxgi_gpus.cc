#include "gpu/dxgi_gpus.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <map>

namespace memopt::gpu {
namespace {

bool take(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

template <typename T>
bool number(std::string_view& s, T& out, int base, size_t max_digits) {
  size_t n = 0;
  while (n < s.size() && n <= max_digits && std::isxdigit(static_cast<unsigned char>(s[n]))) ++n;
  if (n == 0 || n > max_digits) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + n, out, base);
  if (ec != std::errc() || p != s.data() + n) return false;
  s.remove_prefix(n);
  return true;
}

Vendor vendor_of(uint32_t pci_vendor) {
  switch (pci_vendor) {
    case 0x10DE:
      return Vendor::kNvidia;
    case 0x1002:
      return Vendor::kAmd;
    case 0x8086:
      return Vendor::kIntel;
    default:
      return Vendor::kOther;
  }
}

}  // namespace

std::optional<GpuProcessCounter> parse_gpu_process_instance(std::string_view s) {
  GpuProcessCounter c;
  uint32_t high = 0, low = 0;
  if (s.size() > 64 || !take(s, "pid_") || !number(s, c.pid, 10, 10) || !take(s, "_luid_0x") ||
      !number(s, high, 16, 8) || !take(s, "_0x") || !number(s, low, 16, 8) || !take(s, "_phys_") ||
      !number(s, c.phys, 10, 4) || !s.empty()) {
    return std::nullopt;
  }
  c.luid = (static_cast<uint64_t>(high) << 32) | low;
  return c;
}

void append_dxgi_gpus(const std::vector<DxgiAdapterReading>& adapters,
                      const Result<std::vector<GpuProcessCounter>>& counters, bool nvidia_listed,
                      GpuSnapshot& snapshot) {
  // pid → bytes per adapter; a process's engines on several "phys" nodes of
  // one adapter (linked adapters) are summed.
  std::map<uint64_t, std::map<uint32_t, GpuProcess>> by_luid;
  if (counters) {
    for (const auto& c : *counters) {
      GpuProcess& p = by_luid[c.luid][c.pid];
      p.pid = c.pid;
      p.used_bytes = p.used_bytes.value_or(0) + c.dedicated_bytes;
      p.shared_bytes += c.shared_bytes;
    }
  } else {
    snapshot.notes.push_back(
        {"dxgi", "per-process GPU memory not readable: " + counters.error().message, true});
  }
  uint32_t n = 0;
  for (const auto& a : adapters) {
    if (a.software) continue;
    const Vendor v = vendor_of(a.vendor_id);
    if (v == Vendor::kNvidia && nvidia_listed) continue;
    GpuDevice d;
    d.backend = "dxgi";
    d.backend_index = n++;
    d.vendor = v;
    d.name = a.name;
    d.uuid = fmt::format("LUID-{:08x}-{:08x}", a.luid >> 32, a.luid & 0xffffffffu);
    // An integrated GPU has (almost) no memory of its own: it allocates from
    // the shared system pool, which is then what it can use.
    d.integrated = a.dedicated_video_bytes < (512ull << 20) && a.shared_system_bytes > 0;
    d.memory_total_bytes = d.integrated ? a.shared_system_bytes : a.dedicated_video_bytes;
    d.shared_total_bytes = a.shared_system_bytes;
    if (counters) {
      uint64_t used = 0, shared = 0;
      if (auto it = by_luid.find(a.luid); it != by_luid.end()) {
        for (const auto& [pid, p] : it->second) {
          used += p.used_bytes.value_or(0);
          shared += p.shared_bytes;
          d.processes.push_back(p);
        }
      }
      // The counters cover every process: their sum is the adapter's use.
      d.memory_used_bytes = d.integrated ? used + shared : used;
      d.shared_used_bytes = shared;
      if (*d.memory_used_bytes <= *d.memory_total_bytes)
        d.memory_free_bytes = *d.memory_total_bytes - *d.memory_used_bytes;
      d.memory_source = "dxgi+gpu_process_memory";
    } else {
      d.unavailable["memory_used_bytes"] = "GPU Process Memory counters not readable";
      d.unavailable["processes"] = "GPU Process Memory counters not readable";
      d.memory_source = "dxgi";
    }
    snapshot.gpus.push_back(std::move(d));
  }
}

}  // namespace memopt::gpu
