// Host memory on Linux: /proc/meminfo, /proc/pressure/memory and the NUMA
// nodes under /sys (the parsers are platform-free, in host_memory.cc).
#include <fmt/format.h>

#include <algorithm>

#include "proc/host_memory.h"
#include "util/fs_read.h"

namespace memopt::proc {

Result<HostMemory> read_host_memory(const std::string& proc_root, const std::string& sys_root) {
  HostMemory h;
  std::string path = proc_root + "/meminfo";
  auto text = read_small_file(path);
  if (!text)
    return make_error(fmt::format("cannot read {}: is procfs mounted there? (--proc-root)", path));
  auto mi = parse_meminfo(*text);
  if (!mi) return make_error(fmt::format("{}: {}", path, mi.error().message));
  h.meminfo = *mi;
  if (auto p = read_small_file(proc_root + "/pressure/memory")) h.pressure = parse_pressure(*p);

  std::string nodes = sys_root + "/devices/system/node";
  for (const auto& name : list_dir(nodes)) {
    if (!name.starts_with("node")) continue;
    auto id = parse_u64(std::string_view(name).substr(4));
    if (!id || *id > 4096) continue;
    NumaNode n;
    n.id = static_cast<int>(*id);
    std::string dir = nodes + "/" + name;
    if (auto m = read_small_file(dir + "/meminfo")) parse_node_meminfo(*m, n);
    if (auto c = read_line(dir + "/cpulist")) {
      n.cpulist = *c;
      if (auto cpus = parse_cpulist(*c)) n.cpus = std::move(*cpus);
    }
    h.numa_nodes.push_back(std::move(n));
  }
  std::sort(h.numa_nodes.begin(), h.numa_nodes.end(),
            [](const NumaNode& a, const NumaNode& b) { return a.id < b.id; });
  return h;
}

}  // namespace memopt::proc
