// Host memory on Windows (see host_memory_win.h). `proc_root` and `sys_root`
// have no meaning here; NUMA nodes and pressure stall figures are Linux's.
#include "proc/host_memory_win.h"

#include <windows.h>
// After windows.h:
#include <psapi.h>

#include <algorithm>
#include <string>

namespace memopt::proc {

Result<HostMemory> host_memory_from_counters(const WindowsMemoryCounters& c) {
  if (c.total_phys == 0 || c.avail_phys > c.total_phys || c.page_size == 0 ||
      c.page_size > (1u << 30)) {
    return make_error("Windows memory counters are inconsistent (total " +
                      std::to_string(c.total_phys) + ", available " + std::to_string(c.avail_phys) +
                      ", page size " + std::to_string(c.page_size) + ")");
  }
  const uint64_t max_pages = UINT64_MAX / c.page_size;
  if (c.commit_total > max_pages || c.commit_limit > max_pages || c.commit_peak > max_pages ||
      c.physical_total > max_pages || c.system_cache > max_pages) {
    return make_error("Windows memory counters overflow 64 bits (page size " +
                      std::to_string(c.page_size) + ")");
  }
  HostMemory h;
  MemInfo& m = h.meminfo;
  m.total_bytes = c.total_phys;
  m.available_bytes = c.avail_phys;
  m.free_bytes = c.avail_phys;
  m.cached_bytes = std::min(c.system_cache * c.page_size, c.total_phys);
  CommitCharge cc{c.commit_total * c.page_size, c.commit_limit * c.page_size,
                  c.commit_peak * c.page_size};
  const uint64_t ram = c.physical_total * c.page_size;
  m.swap_total_bytes = cc.limit_bytes > ram ? cc.limit_bytes - ram : 0;
  const uint64_t headroom = cc.limit_bytes > cc.total_bytes ? cc.limit_bytes - cc.total_bytes : 0;
  m.swap_free_bytes = std::min(headroom, m.swap_total_bytes);
  h.commit = cc;
  return h;
}

Result<HostMemory> read_host_memory(const std::string& /*proc_root*/,
                                    const std::string& /*sys_root*/) {
  MEMORYSTATUSEX ms{};
  ms.dwLength = sizeof ms;
  if (!GlobalMemoryStatusEx(&ms)) {
    return make_error("GlobalMemoryStatusEx failed (Windows error " +
                      std::to_string(GetLastError()) + ")");
  }
  PERFORMANCE_INFORMATION pi{};
  pi.cb = sizeof pi;
  if (!GetPerformanceInfo(&pi, sizeof pi)) {
    return make_error("GetPerformanceInfo failed (Windows error " + std::to_string(GetLastError()) +
                      ")");
  }
  return host_memory_from_counters({ms.ullTotalPhys, ms.ullAvailPhys, pi.PageSize, pi.CommitTotal,
                                    pi.CommitLimit, pi.CommitPeak, pi.PhysicalTotal,
                                    pi.SystemCache});
}

}  // namespace memopt::proc
