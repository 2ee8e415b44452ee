#include "detect/warnings.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "util/bytes.h"

namespace memopt::detect {

double offload_slowdown(double cpu_fraction, double ratio) {
  cpu_fraction = std::clamp(cpu_fraction, 0.0, 1.0);
  return (1.0 - cpu_fraction) + cpu_fraction * ratio;
}

std::vector<Warning> make_warnings(const Snapshot& s, const WarningThresholds& t) {
  std::vector<Warning> out;
  // Models partly in system RAM (reported by the runtime: size vs size_vram).
  for (const auto& model : s.loaded_models) {
    // Only a runtime that says both how much it holds and how much of it is
    // on the GPU tells us about offload (Ollama's size / size_vram).
    if (!model.size_bytes || !model.vram_bytes) continue;
    const uint64_t size = *model.size_bytes, vram = *model.vram_bytes;
    const auto& m = model;
    if (size == 0 || vram >= size) continue;
    double cpu = 1.0 - static_cast<double>(vram) / static_cast<double>(size);
    if (cpu < 0.01) continue;
    int pct = static_cast<int>(std::lround(cpu * 100));
    if (vram == 0) {
      out.push_back({"warning", fmt::format("{} runs entirely on CPU", m.name),
                     fmt::format("`ruvector-memopt ai plan {}` shows what fits on the GPU", m.name)});
      continue;
    }
    double slow = offload_slowdown(cpu, t.gpu_over_cpu_bandwidth);
    out.push_back({"warning",
                   fmt::format("{} is {}% on CPU: expect ~{:.0f}x slower generation", m.name, pct, slow),
                   fmt::format("`ruvector-memopt ai plan {}` shows a context that fits", m.name)});
  }
  // Non-AI VRAM holders.
  uint64_t other_total = 0;
  std::vector<const snapshot::Workload*> others;
  for (const auto& w : s.workloads) {
    if (w.is_ai() || w.vram_bytes == 0) continue;
    other_total += w.vram_bytes;
    others.push_back(&w);
  }
  if (other_total >= t.other_vram_min_bytes) {
    std::string list;
    for (size_t i = 0; i < others.size() && i < 3; ++i) {
      if (i) list += ", ";
      list += fmt::format("{} ({})", others[i]->runtime_name, format_bytes(others[i]->vram_bytes));
    }
    if (others.size() > 3) list += fmt::format(", {} more", others.size() - 3);
    out.push_back({"info", fmt::format("{} VRAM held by non-AI processes: {}", format_bytes(other_total), list),
                   "close them to give the models more room"});
  }
  // Full GPUs.
  for (const auto& d : s.gpus) {
    struct {
      uint32_t index;
      const std::string& name;
      uint64_t total_bytes, used_bytes;
    } g{d.index, d.name, d.memory_total_bytes.value_or(0), d.memory_used_bytes.value_or(0)};
    if (g.total_bytes == 0) continue;
    double used = static_cast<double>(g.used_bytes) / static_cast<double>(g.total_bytes);
    if (used > t.vram_used_max) {
      out.push_back({"critical",
                     fmt::format("GPU {} ({}) is {:.0f}% full: {} free", g.index, g.name, used * 100,
                                 format_bytes(g.total_bytes - std::min(g.total_bytes, g.used_bytes))),
                     "unload an idle model (`ruvector-memopt ai unload`) or lower the context"});
    }
  }
  // Low RAM.
  if (const auto& mem = s.host.meminfo; mem.total_bytes > 0) {
    double avail = static_cast<double>(mem.available_bytes) / static_cast<double>(mem.total_bytes);
    if (avail < t.ram_available_min) {
      out.push_back({"critical",
                     fmt::format("only {} of {} RAM available ({:.0f}%)", format_bytes(mem.available_bytes),
                                 format_bytes(mem.total_bytes), avail * 100),
                     "models offloaded to CPU may be swapped out; free RAM or offload fewer layers"});
    }
  }
  if (s.scan.denied_processes > 0) {
    int n = s.scan.denied_processes;
    out.push_back({"info",
                   fmt::format("{} process{} could not be inspected (permission denied)", n, n == 1 ? "" : "es"),
                   s.scan.as_root ? "" : "run as root (sudo) to see AI workloads of every user"});
  }
  return out;
}

}  // namespace memopt::detect
