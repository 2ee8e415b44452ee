#pragma once
// Host memory from /proc/meminfo: what `ai status` draws the RAM bar from.
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace memopt::proc {

struct HostMemory {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;  // MemAvailable: what can be allocated without swapping
  uint64_t swap_total_bytes = 0;
  uint64_t swap_free_bytes = 0;
};

// Parses meminfo text ("MemTotal:  16318712 kB"). Fails when MemTotal is missing.
Result<HostMemory> parse_meminfo(std::string_view text);
// Reads `<proc_root>/meminfo`.
Result<HostMemory> read_host_memory(const std::string& proc_root);

}  // namespace memopt::proc
