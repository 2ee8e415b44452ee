// `vram status`: every GPU's memory, temperature, power, throttling and the
// processes holding its memory, then host RAM and swap. Other `vram`
// subcommands register from their own files into the same group.
#include <fmt/format.h>

#include <algorithm>

#include "cli/command.h"
#include "gpu/collect.h"
#include "util/fs_read.h"
#include "gpu/gpu_json.h"
#include "proc/host_memory.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

using gpu::GpuDevice;

void print_gpu(std::ostream& out, const GpuDevice& g, const std::string& proc_root) {
  std::string where = g.backend;
  if (!g.pci_bus_id.empty()) where += ", " + g.pci_bus_id;
  if (g.numa_node) where += fmt::format(", NUMA {}", *g.numa_node);
  out << fmt::format("GPU {}  {}  ({})\n", g.index, fit(g.name, 40), where);

  const char* label = g.integrated ? "Shared" : "VRAM  ";
  if (g.memory_total_bytes && g.memory_used_bytes) {
    uint64_t total = *g.memory_total_bytes, used = *g.memory_used_bytes;
    out << fmt::format("  {} {}  {} / {} used", label, usage_bar(used, total, 20),
                       format_bytes(used), format_bytes(total));
    if (g.memory_free_bytes) out << fmt::format(", {} free", format_bytes(*g.memory_free_bytes));
    out << "\n";
  } else if (g.memory_used_bytes) {
    out << fmt::format(
        "  {} {} used (total unknown: {})\n", label, format_bytes(*g.memory_used_bytes),
        g.unavailable.count("memory_total_bytes") ? g.unavailable.at("memory_total_bytes") : "");
  } else {
    auto it = g.unavailable.find("memory_total_bytes");
    out << fmt::format("  {} not available: {}\n", label,
                       it != g.unavailable.end() ? it->second : "unknown");
  }
  if (g.integrated) {
    out << (g.memory_source.starts_with("host")
                ? "  integrated GPU: its memory is host RAM (figures above are the host's)\n"
                : "  integrated GPU: carve-out plus GTT (host RAM mapped for the GPU)\n");
  }

  std::vector<std::string> parts;
  if (g.temperature_c) {
    std::string t = fmt::format("Temp {:.0f} C", *g.temperature_c);
    if (g.temperature_slowdown_c)
      t += fmt::format(" (slowdown {:.0f} C)", *g.temperature_slowdown_c);
    parts.push_back(t);
  }
  if (g.power_draw_watts) {
    std::string p = fmt::format("Power {:.0f} W", *g.power_draw_watts);
    if (g.power_limit_watts) p += fmt::format(" / {:.0f} W", *g.power_limit_watts);
    parts.push_back(p);
  }
  if (g.utilization_percent) parts.push_back(fmt::format("Util {}%", *g.utilization_percent));
  if (!parts.empty()) {
    std::string line = "  ";
    for (size_t i = 0; i < parts.size(); ++i) line += (i ? "   " : "") + parts[i];
    out << line << "\n";
  }
  if (g.throttle) {
    std::vector<std::string> why;
    if (g.throttle->thermal) why.push_back("thermal");
    if (g.throttle->power) why.push_back("power cap");
    if (g.throttle->other) why.push_back("hardware slowdown/sync");
    std::string joined = why.empty() ? "none" : why[0];
    for (size_t i = 1; i < why.size(); ++i) joined += ", " + why[i];
    out << "  Throttling: " << joined << "\n";
  }
  if (g.mig_enabled.value_or(false)) {
    out << fmt::format("  MIG mode enabled, {} instance(s)\n", g.mig_instances.size());
    for (const auto& m : g.mig_instances) {
      std::string mem = m.memory_total_bytes && m.memory_used_bytes
                            ? fmt::format("{} / {} used", format_bytes(*m.memory_used_bytes),
                                          format_bytes(*m.memory_total_bytes))
                            : "memory n/a";
      out << fmt::format("    GI {} CI {}  {}  {}\n",
                         m.gpu_instance_id ? std::to_string(*m.gpu_instance_id) : "?",
                         m.compute_instance_id ? std::to_string(*m.compute_instance_id) : "?", mem,
                         fit(m.uuid, 24));
    }
  }

  if (g.processes.empty()) {
    auto it = g.unavailable.find("processes");
    if (it != g.unavailable.end())
      out << "  processes: not available: " << fit(it->second, 60) << "\n";
    else
      out << "  no process holds memory on this GPU\n";
    return;
  }
  out << fmt::format("  {:>8}  {:<16}  {:<8}  {:>12}\n", "PID", "NAME", "KIND", "MEMORY");
  for (const auto& p : g.processes) {
    std::string name = process_name(proc_root, p.pid);
    if (name.empty()) name = "(not in /proc)";  // exited, or another pid namespace
    std::string mem = p.used_bytes ? format_bytes(*p.used_bytes + p.shared_bytes) : "n/a";
    out << fmt::format("  {:>8}  {}  {:<8}  {:>12}\n", p.pid, pad_right(name, 16),
                       gpu::process_kind_name(p.kind), mem);
  }
}

void print_host(std::ostream& out, const proc::HostMemory& h) {
  const auto& m = h.meminfo;
  uint64_t used = m.total_bytes - m.available_bytes;
  out << "Host memory\n";
  out << fmt::format("  RAM   {}  {} / {} used, {} available\n", usage_bar(used, m.total_bytes, 20),
                     format_bytes(used), format_bytes(m.total_bytes),
                     format_bytes(m.available_bytes));
  if (m.swap_total_bytes == 0) {
    out << "  Swap  none\n";
  } else {
    uint64_t su = m.swap_total_bytes - m.swap_free_bytes;
    out << fmt::format("  Swap  {}  {} / {} used\n", usage_bar(su, m.swap_total_bytes, 20),
                       format_bytes(su), format_bytes(m.swap_total_bytes));
  }
  if (h.pressure) {
    out << fmt::format("  Pressure (avg10)  some {:.2f}%  full {:.2f}%\n", h.pressure->some_avg10,
                       h.pressure->full_avg10);
  }
  if (h.numa_nodes.size() > 1) {
    for (const auto& n : h.numa_nodes) {
      out << fmt::format("  NUMA node {}: {} free of {}, CPUs {}\n", n.id,
                         format_bytes(n.free_bytes), format_bytes(n.total_bytes),
                         fit(n.cpulist, 30));
    }
  }
}

int run_status(CliContext& ctx) {
  gpu::GpuRoots roots{ctx.opts.proc_root, ctx.opts.sys_root, ctx.opts.nvml_library};
  gpu::GpuSnapshot snap = gpu::collect_gpus(roots);
  auto host = proc::read_host_memory(ctx.opts.proc_root, ctx.opts.sys_root);

  if (ctx.opts.json) {
    nlohmann::json gpus = nlohmann::json::array();
    for (const auto& g : snap.gpus) gpus.push_back(gpu::gpu_to_json(g, ctx.opts.proc_root));
    nlohmann::json notes = nlohmann::json::array();
    for (const auto& n : snap.notes) notes.push_back(gpu::note_to_json(n));
    nlohmann::json doc = {{"schema", "ruvector-memopt.vram-status/1"},
                          {"gpus", gpus},
                          {"notes", notes},
                          {"host", host ? gpu::host_to_json(*host) : nlohmann::json(nullptr)}};
    print_json(ctx, doc);
  } else {
    std::ostream& out = *ctx.out;
    if (snap.gpus.empty()) {
      out << "No GPU found (no NVIDIA GPU through NVML, no amdgpu/i915/xe card in "
          << ctx.opts.sys_root << "/class/drm).\n";
    }
    for (const auto& g : snap.gpus) {
      print_gpu(out, g, ctx.opts.proc_root);
      out << "\n";
    }
    bool noted = false;
    for (const auto& n : snap.notes) {
      if (!n.warning && ctx.opts.verbose == 0) continue;
      out << wrap_block("", (n.warning ? "warning: " : "note: ") + n.message, 2);
      noted = true;
    }
    if (noted) out << "\n";
    if (host) print_host(out, *host);
  }
  if (!host) return fail(ctx, "host memory: " + host.error().message);
  return kExitOk;
}

RegisterCommands reg(40, [](CliRoot& root) {
  CLI::App* vram = root.group("vram", "GPU memory: status, and freeing it");
  auto* cmd =
      vram->add_subcommand("status", "Show every GPU's memory, temperature, power and processes");
  root.bind(cmd, [](CliContext& ctx) { return run_status(ctx); });
});

}  // namespace
}  // namespace memopt::cli
