#include "proc/host_memory.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "util/fs_read.h"

namespace memopt::proc {
namespace {

// "  123456 kB" → bytes; /proc/meminfo's "kB" is KiB (fs/proc/meminfo.c
// prints pages << (PAGE_SHIFT - 10)).
std::optional<uint64_t> kib_value(std::string_view v) {
  v = trim(v);
  if (v.ends_with("kB")) v = trim(v.substr(0, v.size() - 2));
  auto n = parse_u64(v);
  if (!n || *n > std::numeric_limits<uint64_t>::max() / 1024) return std::nullopt;
  return *n * 1024;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text = text.substr(nl + 1);
  }
}

}  // namespace

Result<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo m;
  bool total = false, avail = false, free = false;
  uint64_t buffers = 0;
  for_each_line(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view key = line.substr(0, colon);
    auto v = kib_value(line.substr(colon + 1));
    if (!v) return;
    if (key == "MemTotal")
      total = true, m.total_bytes = *v;
    else if (key == "MemFree")
      free = true, m.free_bytes = *v;
    else if (key == "MemAvailable")
      avail = true, m.available_bytes = *v;
    else if (key == "Buffers")
      buffers = *v;
    else if (key == "Cached")
      m.cached_bytes = *v;
    else if (key == "SwapTotal")
      m.swap_total_bytes = *v;
    else if (key == "SwapFree")
      m.swap_free_bytes = *v;
  });
  if (!total) return make_error("no MemTotal line");
  if (!avail) {
    // Pre-3.14 kernels: the classic free + buffers + cache estimate.
    if (!free) return make_error("neither MemAvailable nor MemFree line");
    m.available_bytes = m.free_bytes + buffers + m.cached_bytes;
  }
  m.available_bytes = std::min(m.available_bytes, m.total_bytes);
  m.swap_free_bytes = std::min(m.swap_free_bytes, m.swap_total_bytes);
  return m;
}

std::optional<MemoryPressure> parse_pressure(std::string_view text) {
  MemoryPressure p;
  bool some = false;
  for_each_line(text, [&](std::string_view line) {
    bool is_some = line.starts_with("some ");
    bool is_full = line.starts_with("full ");
    if (!is_some && !is_full) return;
    double a10 = -1, a60 = -1, a300 = -1;
    std::string s(line.substr(5));
    // "avg10=0.00 avg60=0.00 avg300=0.00 total=0"
    if (std::sscanf(s.c_str(), "avg10=%lf avg60=%lf avg300=%lf", &a10, &a60, &a300) != 3) return;
    if (a10 < 0 || a60 < 0 || a300 < 0 || a10 > 100 || a60 > 100 || a300 > 100) return;
    if (is_some) {
      some = true;
      p.some_avg10 = a10, p.some_avg60 = a60, p.some_avg300 = a300;
    } else {
      p.full_avg10 = a10, p.full_avg60 = a60, p.full_avg300 = a300;
    }
  });
  if (!some) return std::nullopt;
  return p;
}

std::optional<std::vector<int>> parse_cpulist(std::string_view text) {
  // The kernel's cpulist format (lib/bitmap.c bitmap_print_to_pagebuf).
  constexpr int kMaxCpu = 1 << 16;  // more than any machine; bounds the vector
  std::vector<int> cpus;
  text = trim(text);
  if (text.empty()) return cpus;  // a memory-only node has no CPUs
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    size_t dash = part.find('-');
    auto lo = parse_u64(part.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_u64(part.substr(dash + 1));
    if (!lo || !hi || *lo > *hi || *hi >= kMaxCpu) return std::nullopt;
    for (uint64_t c = *lo; c <= *hi; ++c) cpus.push_back(static_cast<int>(c));
    if (cpus.size() > static_cast<size_t>(kMaxCpu)) return std::nullopt;
  }
  return cpus;
}

void parse_node_meminfo(std::string_view text, NumaNode& node) {
  for_each_line(text, [&](std::string_view line) {
    // "Node 0 MemTotal:       32786372 kB"
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    std::string_view head = line.substr(0, colon);
    size_t sp = head.rfind(' ');
    std::string_view key = sp == std::string_view::npos ? head : head.substr(sp + 1);
    auto v = kib_value(line.substr(colon + 1));
    if (!v) return;
    if (key == "MemTotal")
      node.total_bytes = *v;
    else if (key == "MemFree")
      node.free_bytes = *v;
  });
}

}  // namespace memopt::proc
