#pragma once
// Host memory as the planner and swap prevention need it: RAM and swap from
// /proc/meminfo, pressure stall information from /proc/pressure/memory, and
// NUMA nodes (memory and CPUs per node) from /sys/devices/system/node.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::proc {

struct MemInfo {
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  // MemAvailable: the kernel's estimate of what can be allocated without
  // swapping (kernel 3.14+). Older kernels: MemFree + Buffers + Cached.
  uint64_t available_bytes = 0;
  uint64_t cached_bytes = 0;
  uint64_t swap_total_bytes = 0;
  uint64_t swap_free_bytes = 0;
};

// PSI averages, percent of wall time (Documentation/accounting/psi.rst).
struct MemoryPressure {
  double some_avg10 = 0, some_avg60 = 0, some_avg300 = 0;
  double full_avg10 = 0, full_avg60 = 0, full_avg300 = 0;
};

struct NumaNode {
  int id = 0;
  uint64_t total_bytes = 0;
  uint64_t free_bytes = 0;
  std::string cpulist;    // as the kernel prints it, "0-7,16-23"
  std::vector<int> cpus;  // expanded
};

// Windows' commit charge: memory promised to processes, backed by RAM plus
// the page files; allocations fail (not swap) when it reaches the limit.
struct CommitCharge {
  uint64_t total_bytes = 0;
  uint64_t limit_bytes = 0;
  uint64_t peak_bytes = 0;
};

struct HostMemory {
  MemInfo meminfo;
  std::optional<CommitCharge> commit;  // Windows only
  std::optional<MemoryPressure> pressure;  // empty: kernel without PSI
  std::vector<NumaNode> numa_nodes;        // empty: no NUMA sysfs
};

// Pure parsers (no I/O), unit-tested on fixture text.
Result<MemInfo> parse_meminfo(std::string_view text);
std::optional<MemoryPressure> parse_pressure(std::string_view text);
// "0-3,8,10-11" → {0,1,2,3,8,10,11}; empty on malformed or absurd input.
std::optional<std::vector<int>> parse_cpulist(std::string_view text);
// /sys/devices/system/node/nodeN/meminfo: "Node 0 MemTotal:  123 kB" lines.
void parse_node_meminfo(std::string_view text, NumaNode& node);

// Reads `proc_root`/meminfo (required: an error names the file) and the
// optional pressure and NUMA files.
Result<HostMemory> read_host_memory(const std::string& proc_root, const std::string& sys_root);

}  // namespace memopt::proc
