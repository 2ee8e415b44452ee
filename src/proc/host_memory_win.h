#pragma once
// Host memory on Windows: what GlobalMemoryStatusEx and GetPerformanceInfo
// answer, as recorded numbers, and the one mapping to HostMemory (tested on
// recorded values in host_memory_win_test.cc; read_host_memory() fills it
// from the live calls).
#include <cstdint>

#include "proc/host_memory.h"

namespace memopt::proc {

struct WindowsMemoryCounters {
  // GlobalMemoryStatusEx (bytes).
  uint64_t total_phys = 0;
  uint64_t avail_phys = 0;
  // GetPerformanceInfo (pages of page_size bytes).
  uint64_t page_size = 0;
  uint64_t commit_total = 0;
  uint64_t commit_limit = 0;
  uint64_t commit_peak = 0;
  uint64_t physical_total = 0;
  uint64_t system_cache = 0;
};

// RAM as MemInfo (available = free: Windows' available memory is the free,
// zeroed and standby lists, the figure Task Manager calls "Available"); the
// page files as swap (commit limit minus RAM: what the page files add to
// the commit limit) with swap free = limit - commit total, clamped to the
// page files' size; the commit charge itself. Fails when the counters are
// empty or inconsistent (a page size of 0, more available than total).
Result<HostMemory> host_memory_from_counters(const WindowsMemoryCounters& c);

}  // namespace memopt::proc
