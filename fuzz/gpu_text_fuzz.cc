// Fuzzes the text parsers of src/gpu/ (DRM fdinfo, /proc/meminfo, PSI,
// cpulist, NUMA node meminfo): any input must parse or be rejected, without
// a crash, an overflow or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gpu/drm_fdinfo.h"
#include "proc/host_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto info = memopt::gpu::parse_drm_fdinfo(text)) {
    if (info->driver.empty()) std::abort();  // a client always names its driver
  }
  (void)memopt::gpu::parse_drm_size(text);
  if (auto m = memopt::proc::parse_meminfo(text); m.ok()) {
    if (m->available_bytes > m->total_bytes || m->swap_free_bytes > m->swap_total_bytes)
      std::abort();
  }
  if (auto p = memopt::proc::parse_pressure(text)) {
    if (p->some_avg10 < 0 || p->some_avg10 > 100) std::abort();
  }
  if (auto cpus = memopt::proc::parse_cpulist(text)) {
    if (cpus->size() > 65537) std::abort();
  }
  memopt::proc::NumaNode node;
  memopt::proc::parse_node_meminfo(text, node);
  return 0;
}
