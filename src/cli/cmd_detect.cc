// `ai detect` and `ai status`: the AI Workload Detector's views.
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "cli/gateway_target.h"
#include "assembler/assembler.h"
#include "snapshot/snapshot_json.h"
#include "policy/profile.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

struct DetectOptions {
  bool no_probe = false;
  bool no_runtimes = false;
  GatewayCliOptions gateway;
  bool with_gateway = false;  // `ai status`: read the serve gateway too
};

// One reading of the machine through the one assembler. `full_scan`: read
// every process's maps (`ai detect`) or only those that may be AI work (the
// glance of `ai status`).
Result<snapshot::Snapshot> read_snapshot(const CliContext& ctx, const DetectOptions& o, bool full_scan) {
  assembler::AssembleOptions a;
  a.proc_root = ctx.opts.proc_root;
  a.sys_root = ctx.opts.sys_root;
  a.nvml_library = ctx.opts.nvml_library;
  a.full_scan = full_scan;
  a.probe_ports = !o.no_probe;
  a.query_runtimes = !o.no_runtimes;
  if (o.with_gateway) a.gateway = gateway_target(o.gateway);
  assembler::SnapshotAssembler assembler(std::move(a));
  return assembler.assemble(assembler::monotonic_seconds());
}

std::string short_endpoint(const std::string& url) {
  std::string_view u = url;
  if (u.starts_with("http://")) u.remove_prefix(7);
  return std::string(u);
}

std::string bytes_or_dash(uint64_t b) { return b ? format_bytes(b) : "-"; }

// RUNTIME PID MODEL VRAM RAM ENDPOINT: 13+7+20+10+10+15 plus five spaces,
// 80 columns. Sizes are at most "1023.9 GiB" (format_bytes), pids 7 digits
// (pid_max 4194304), endpoints "127.0.0.1:11434".
const std::vector<Column> kWorkloadColumns = {{13, false}, {7, true},  {20, false},
                                              {10, true},  {10, true}, {15, false}};

std::string runtime_label(const snapshot::Workload& w) {
  return w.flavor.empty() ? w.runtime_name : w.flavor;
}

void print_evidence(std::ostream& out, const snapshot::Workload& w) {
  if (!w.flavor.empty()) out << "    runtime: " << w.runtime_name << " (" << w.flavor << ")\n";
  if (w.pids.size() > 1) {
    std::string pids;
    for (int p : w.pids) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
    out << "    processes: " << pids << "\n";
  }
  if (!w.accelerators.empty()) {
    std::string a;
    for (const auto& x : w.accelerators) a += (a.empty() ? "" : ", ") + x;
    out << "    accelerators: " << a << "\n";
  }
  if (!w.also.empty()) {
    std::string a;
    for (const auto& x : w.also) a += (a.empty() ? "" : ", ") + x;
    out << "    also loads: " << a << "\n";
  }
  if (!w.container_id.empty()) out << "    container: " << w.container_id.substr(0, 12) << "\n";
  for (const auto& f : w.model_files) out << "    model file: " << f << "\n";
  for (const auto& m : w.models) {
    if (!m.error.empty()) {
      out << "    " << m.path << ": " << m.error << "\n";
    } else {
      out << fmt::format("    gguf: {} {} {} params, {} layers, trained context {}\n",
                         m.architecture, m.file_type_name, m.parameter_count, m.block_count,
                         m.context_length);
    }
  }
  for (const auto& e : w.evidence) {
    out << fmt::format("    [{:.2f}] pid {} {}: {}\n", e.confidence, e.pid, e.signal, e.detail);
  }
  if (!w.note.empty()) out << "    note: " << w.note << "\n";
}

int run_detect(CliContext& ctx, const DetectOptions& o) {
  auto snap = read_snapshot(ctx, o, /*full_scan=*/true);
  if (!snap) return fail(ctx, "ai detect: " + snap.error().message);
  const snapshot::Snapshot& s = *snap;
  if (ctx.opts.json) {
    nlohmann::json j;
    j["schema"] = "ruvector-memopt.detect/1";
    nlohmann::json ws = nlohmann::json::array();
    for (const auto& w : s.workloads) ws.push_back(snapshot::to_json(w));
    j["workloads"] = ws;
    j["scan"] = {{"processes", s.scan.processes},
                 {"denied_processes", s.scan.denied_processes},
                 {"vanished_processes", s.scan.vanished_processes}};
    // The runtimes' models, as the status document has them (one conversion).
    j["loaded_models"] = snapshot::to_json(s)["loaded_models"];
    j["gpu_backend"] = s.gpu_backend;
    j["gpu_error"] = s.gpu_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.gpu_error);
    j["unsupported"] = s.unsupported;
    print_json(ctx, j);
    return kExitOk;
  }
  std::ostream& out = *ctx.out;
  bool any_ai = false;
  for (const auto& w : s.workloads) any_ai = any_ai || w.is_ai();
  if (!any_ai) {
    out << "No AI workloads found among " << s.scan.processes << " processes.\n";
  } else {
    out << table_row(kWorkloadColumns, {"RUNTIME", "PID", "MODEL", "VRAM", "RAM", "ENDPOINT"})
        << "\n";
    for (const auto& w : s.workloads) {
      if (!w.is_ai()) continue;
      out << table_row(kWorkloadColumns,
                       {runtime_label(w), std::to_string(w.pid), w.model.empty() ? "-" : w.model,
                        bytes_or_dash(w.vram_bytes), format_bytes(w.rss_bytes),
                        short_endpoint(w.endpoint)})
          << "\n";
      if (ctx.opts.verbose > 0) print_evidence(out, w);
    }
  }
  bool header = false;
  for (const auto& w : s.workloads) {
    if (w.is_ai()) continue;
    if (!header) out << "\nOther processes holding VRAM:\n", header = true;
    out << "  " << table_row({{19, false}, {7, true}, {11, true}},
                             {w.command, std::to_string(w.pid), format_bytes(w.vram_bytes)})
        << "\n";
  }
  if (!s.gpu_error.empty()) out << "\n" << wrap_hanging("VRAM: ", s.gpu_error);
  if (s.scan.denied_processes > 0) {
    int n = s.scan.denied_processes;
    out << n << (n == 1 ? " process" : " processes") << " could not be inspected (permission denied)"
        << (s.scan.as_root ? ".\n" : "; run as root to see them.\n");
  }
  if (ctx.opts.verbose > 0) {
    for (const auto& u : s.unsupported) out << wrap_block("not detectable here: ", u, 2);
  }
  return kExitOk;
}

int run_status(CliContext& ctx, const DetectOptions& o) {
  // A glance must stay fast on a crowded machine: read maps only for the
  // processes that can be AI work (may_be_ai_work, detector.h); `ai detect`
  // reads everything.
  auto snap = read_snapshot(ctx, o, /*full_scan=*/false);
  if (!snap) return fail(ctx, "ai status: " + snap.error().message);
  snapshot::Snapshot& s = *snap;
  // The active profile (src/policy); a missing state file means the default.
  if (auto prof = policy::active_profile(policy::default_state_dir())) s.profile = *prof;
  if (ctx.opts.json) {
    nlohmann::json j = snapshot::to_json(s);
    print_json(ctx, j);
    return kExitOk;
  }
  std::ostream& out = *ctx.out;
  const auto& mem = s.host.meminfo;
  const uint64_t used = s.ram_used_bytes();
  out << fmt::format("RAM    {} {} / {} used, {} available\n", usage_bar(used, mem.total_bytes, 20),
                     format_bytes(used), format_bytes(mem.total_bytes), format_bytes(mem.available_bytes));
  if (s.gpus.empty()) {
    out << wrap_hanging("GPU    ",
                        s.gpu_error.empty() ? "none found" : "none found (" + s.gpu_error + ")");
  }
  for (const auto& g : s.gpus) {
    const uint64_t g_used = g.memory_used_bytes.value_or(0), g_total = g.memory_total_bytes.value_or(0);
    out << fmt::format("GPU {:<2} {} {} / {}  {}\n", g.index, usage_bar(g_used, g_total, 20),
                       format_bytes(g_used), format_bytes(g_total), fit(g.name, 22));
  }
  if (!s.profile.empty()) out << "Profile: " << s.profile << "\n";
  out << "\n";
  bool any_ai = false;
  int by_gateway = 0;
  for (const auto& w : s.workloads) {
    if (!w.is_ai()) continue;
    if (!w.gateway_model.empty()) {  // listed once, under the gateway
      ++by_gateway;
      continue;
    }
    if (!any_ai) out << "AI workloads:\n", any_ai = true;
    std::string kv = "-";
    for (const auto& m : s.loaded_models) {
      if (m.endpoint != w.endpoint || !m.kv.capacity_bytes.known()) continue;
      kv = format_bytes(*m.kv.capacity_bytes.value) +
           (m.kv.capacity_bytes.source == runtimes::Provenance::kEstimated ? " est." : "");
      if (m.kv.usage_ratio.known()) kv += fmt::format(" {:.0f}%", *m.kv.usage_ratio.value * 100);
    }
    if (kv == "-" && w.estimate && w.estimate->kv_cache_bytes) {
      kv = format_bytes(w.estimate->kv_cache_bytes) + " est.";
    }
    out << fmt::format("  {} pid {} {}\n", pad_right(runtime_label(w), 15),
                       pad_right(std::to_string(w.pid), 7),
                       fit(w.model.empty() ? "(model unknown)" : w.model, 48));
    // 4 + 5 + 10 + 5 + 10 + 4 + 16 + 1 + 15 = 70 columns.
    out << fmt::format("    VRAM {} RAM {} KV {} {}\n", pad_right(bytes_or_dash(w.vram_bytes), 10),
                       pad_right(format_bytes(w.rss_bytes), 10), pad_right(kv, 16),
                       fit(short_endpoint(w.endpoint), 15));
    if (w.learned_peak) {  // the daemon's learned workload profile
      out << fmt::format("    expected to reach {} on GPU {} (learned from {} run{})\n",
                         format_bytes(w.learned_peak->peak_bytes), w.learned_peak->gpu_index,
                         w.learned_peak->runs, w.learned_peak->runs == 1 ? "" : "s");
    }
  }
  if (!any_ai && by_gateway == 0) {
    out << "No AI workloads running (" << s.scan.processes << " processes scanned).\n";
  }
  if (s.gateway) {
    if (any_ai) out << "\n";
    print_gateway(out, *s.gateway, s.workloads);
  }
  if (!s.warnings.empty()) {
    out << "\nWarnings:\n";
    for (const auto& w : s.warnings) {
      const char* mark = w.severity == "critical" ? "!!" : w.severity == "warning" ? "! " : "- ";
      out << wrap_hanging(std::string("  ") + mark + " ", w.message);
      if (!w.action.empty()) out << wrap_hanging("     -> ", w.action);
    }
  }
  return kExitOk;
}

RegisterCommands reg(20, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, status, plan, ...");
  auto opts = std::make_shared<DetectOptions>();
  auto* det = ai->add_subcommand("detect", "Find AI runtimes, their models, VRAM and RAM (-v: evidence)");
  det->add_flag("--no-probe", opts->no_probe, "Do not confirm ambiguous ports with an HTTP probe");
  det->add_flag("--no-runtimes", opts->no_runtimes, "Do not ask runtimes which models they hold");
  root.bind(det, [opts](CliContext& ctx) { return run_detect(ctx, *opts); });
  auto sopts = std::make_shared<DetectOptions>();
  sopts->with_gateway = true;
  auto* st = ai->add_subcommand("status", "RAM and VRAM at a glance, AI workloads and warnings");
  st->add_flag("--no-probe", sopts->no_probe, "Do not confirm ambiguous ports with an HTTP probe");
  st->add_flag("--no-runtimes", sopts->no_runtimes, "Do not ask runtimes which models they hold");
  add_gateway_options(st, sopts->gateway);
  root.bind(st, [sopts](CliContext& ctx) { return run_status(ctx, *sopts); });
});

}  // namespace
}  // namespace memopt::cli
