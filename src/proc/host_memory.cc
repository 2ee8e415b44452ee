// /proc/meminfo reader; values are in kB (kernel fs/proc/meminfo.c prints KiB).
#include "proc/host_memory.h"

#include <charconv>
#include <fstream>

namespace memopt::proc {

Result<HostMemory> parse_meminfo(std::string_view text) {
  HostMemory m;
  bool has_total = false, has_available = false;
  uint64_t free_kb = 0, buffers_kb = 0, cached_kb = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view val = line.substr(colon + 1);
    while (!val.empty() && val.front() == ' ') val.remove_prefix(1);
    uint64_t kb = 0;
    auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), kb);
    if (ec != std::errc() || kb > (UINT64_MAX >> 10)) continue;
    if (key == "MemTotal") m.total_bytes = kb << 10, has_total = true;
    else if (key == "MemAvailable") m.available_bytes = kb << 10, has_available = true;
    else if (key == "MemFree") free_kb = kb;
    else if (key == "Buffers") buffers_kb = kb;
    else if (key == "Cached") cached_kb = kb;
    else if (key == "SwapTotal") m.swap_total_bytes = kb << 10;
    else if (key == "SwapFree") m.swap_free_bytes = kb << 10;
  }
  if (!has_total) return make_error("meminfo has no MemTotal line");
  // Kernels before 3.14 lack MemAvailable; free + buffers + cache is the
  // classic approximation (procps `free` did the same).
  if (!has_available) m.available_bytes = (free_kb + buffers_kb + cached_kb) << 10;
  if (m.available_bytes > m.total_bytes) m.available_bytes = m.total_bytes;
  if (m.swap_free_bytes > m.swap_total_bytes) m.swap_free_bytes = m.swap_total_bytes;
  return m;
}

Result<HostMemory> read_host_memory(const std::string& proc_root) {
  std::string path = proc_root + "/meminfo";
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read " + path + " (is procfs mounted? pass --proc-root)");
  std::string text(64 * 1024, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto r = parse_meminfo(text);
  if (!r) return make_error(path + ": " + r.error().message);
  return r;
}

}  // namespace memopt::proc
