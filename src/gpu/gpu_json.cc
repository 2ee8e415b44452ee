#include "gpu/gpu_json.h"

#include <nlohmann/json.hpp>

#include "util/fs_read.h"

namespace memopt::gpu {
namespace {

template <typename T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json processes_json(const std::vector<GpuProcess>& list, const std::string& proc_root) {
  nlohmann::json procs = nlohmann::json::array();
  for (const auto& p : list) {
    procs.push_back({{"pid", p.pid},
                     {"name", process_name(proc_root, p.pid)},
                     {"kind", process_kind_name(p.kind)},
                     {"used_bytes", opt(p.used_bytes)},
                     {"shared_bytes", p.shared_bytes}});
  }
  return procs;
}

nlohmann::json reasons_json(const std::map<std::string, std::string>& m) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : m) out[k] = v;
  return out;
}

}  // namespace

nlohmann::json gpu_to_json(const GpuDevice& g, const std::string& proc_root) {
  nlohmann::json procs = processes_json(g.processes, proc_root);
  nlohmann::json migs = nlohmann::json::array();
  for (const auto& m : g.mig_instances) {
    migs.push_back({{"uuid", m.uuid},
                    {"gpu_instance_id", opt(m.gpu_instance_id)},
                    {"compute_instance_id", opt(m.compute_instance_id)},
                    {"memory_total_bytes", opt(m.memory_total_bytes)},
                    {"memory_used_bytes", opt(m.memory_used_bytes)},
                    {"memory_free_bytes", opt(m.memory_free_bytes)},
                    {"processes", processes_json(m.processes, proc_root)},
                    {"unavailable", reasons_json(m.unavailable)}});
  }
  nlohmann::json throttle = nullptr;
  if (g.throttle) {
    throttle = {{"thermal", g.throttle->thermal},
                {"power", g.throttle->power},
                {"other", g.throttle->other},
                {"raw_mask", g.throttle->raw_mask}};
  }
  nlohmann::json unavailable = reasons_json(g.unavailable);
  return {
      {"index", g.index},
      {"backend_index", g.backend_index},
      {"vendor", vendor_name(g.vendor)},
      {"backend", g.backend},
      {"name", g.name},
      {"uuid", g.uuid},
      {"pci_bus_id", g.pci_bus_id},
      {"numa_node", opt(g.numa_node)},
      {"integrated", g.integrated},
      {"memory",
       {{"total_bytes", opt(g.memory_total_bytes)},
        {"used_bytes", opt(g.memory_used_bytes)},
        {"free_bytes", opt(g.memory_free_bytes)},
        {"reserved_bytes", opt(g.memory_reserved_bytes)},
        {"shared_total_bytes", opt(g.shared_total_bytes)},
        {"shared_used_bytes", opt(g.shared_used_bytes)},
        {"source", g.memory_source}}},
      {"utilization_percent", opt(g.utilization_percent)},
      {"memory_utilization_percent", opt(g.memory_utilization_percent)},
      {"temperature_c", opt(g.temperature_c)},
      {"temperature_slowdown_c", opt(g.temperature_slowdown_c)},
      {"temperature_shutdown_c", opt(g.temperature_shutdown_c)},
      {"power_draw_watts", opt(g.power_draw_watts)},
      {"power_limit_watts", opt(g.power_limit_watts)},
      {"clock_graphics_mhz", opt(g.clock_graphics_mhz)},
      {"clock_graphics_max_mhz", opt(g.clock_graphics_max_mhz)},
      {"clock_memory_mhz", opt(g.clock_memory_mhz)},
      {"throttle", throttle},
      {"pcie_link_gen", opt(g.pcie_link_gen)},
      {"pcie_link_width", opt(g.pcie_link_width)},
      {"mig_enabled", opt(g.mig_enabled)},
      {"mig_pending", opt(g.mig_pending)},
      {"mig_instances", migs},
      {"processes", procs},
      {"unavailable", unavailable},
  };
}

nlohmann::json note_to_json(const GpuNote& n) {
  return {{"backend", n.backend}, {"message", n.message}, {"warning", n.warning}};
}

nlohmann::json host_to_json(const proc::HostMemory& h) {
  nlohmann::json pressure = nullptr;
  if (h.pressure) {
    const auto& p = *h.pressure;
    pressure = {{"some_avg10", p.some_avg10},   {"some_avg60", p.some_avg60},
                {"some_avg300", p.some_avg300}, {"full_avg10", p.full_avg10},
                {"full_avg60", p.full_avg60},   {"full_avg300", p.full_avg300}};
  }
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : h.numa_nodes) {
    nodes.push_back({{"id", n.id},
                     {"total_bytes", n.total_bytes},
                     {"free_bytes", n.free_bytes},
                     {"cpulist", n.cpulist},
                     {"cpus", n.cpus}});
  }
  const auto& m = h.meminfo;
  return {{"memory_total_bytes", m.total_bytes},
          {"memory_available_bytes", m.available_bytes},
          {"memory_free_bytes", m.free_bytes},
          {"memory_cached_bytes", m.cached_bytes},
          {"swap_total_bytes", m.swap_total_bytes},
          {"swap_free_bytes", m.swap_free_bytes},
          {"pressure", pressure},
          {"numa_nodes", nodes}};
}

}  // namespace memopt::gpu
