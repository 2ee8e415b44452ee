#include "cli/gateway_target.h"

#include <fmt/format.h>

#include <filesystem>

#include "policy/profile.h"
#include "serve/config.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {

void add_gateway_options(CLI::App* cmd, GatewayCliOptions& opts, bool with_config) {
  cmd->add_option("--gateway", opts.gateway,
                  "serve gateway HOST:PORT to show, or none (default: [serve] listen of the "
                  "config)");
  if (with_config) {
    cmd->add_option("--config", opts.config, "config file with the [serve] table")
        ->capture_default_str();
  }
}

std::optional<assembler::GatewayTarget> gateway_target(const GatewayCliOptions& opts) {
  if (opts.gateway == "none") return std::nullopt;
  const std::string path = opts.config.empty() ? policy::default_config_path() : opts.config;
  std::error_code ec;
  const bool have_file = std::filesystem::exists(path, ec);
  std::optional<serve::ServeConfig> cfg;
  std::string problem;
  if (have_file) {
    auto c = serve::load_serve_config(path);
    if (c) {
      cfg = std::move(*c);
    } else {
      problem = c.error().message;
    }
  }
  assembler::GatewayTarget t;
  if (!opts.gateway.empty()) {
    t.listen = opts.gateway;
    if (cfg) t.api_key = cfg->api_key;
    return t;
  }
  if (cfg) {
    t.listen = cfg->listen;
    t.api_key = cfg->api_key;
    return t;
  }
  // A config without a [serve] table (or one naming no model) configures no
  // gateway; any other problem with the table is worth showing.
  if (!have_file || problem.find(": no [serve] table") != std::string::npos ||
      problem.find("[serve] names no model") != std::string::npos) {
    return std::nullopt;
  }
  t.config_error = problem;
  return t;
}

void print_gateway(std::ostream& out, const snapshot::GatewayStatus& g,
                   const std::vector<snapshot::Workload>& workloads) {
  if (!g.reachable) {
    // No listen address: the [serve] table itself could not be read.
    out << wrap_hanging(g.listen.empty() ? std::string("Gateway ([serve] table): ")
                                         : "Gateway " + fit(g.listen, 40) + ": not reachable: ",
                        g.error);
    return;
  }
  out << "Gateway " << fit(g.listen, 40) << " (serve): " << g.models.size()
      << (g.models.size() == 1 ? " model\n" : " models\n");
  // MODEL STATE PID QUEUE WAIT AVG VRAM RAM: 2+16+8+7+5+7+7+10+10 and seven
  // spaces, 79 columns.
  static const std::vector<Column> kColumns = {{16, false}, {8, false}, {7, true},
                                               {5, true},   {7, true},  {7, true},
                                               {10, true},  {10, true}};
  out << "  " << table_row(kColumns, {"MODEL", "STATE", "PID", "QUEUE", "WAIT", "AVG", "VRAM", "RAM"})
      << "\n";
  for (const auto& m : g.models) {
    uint64_t vram = 0, rss = m.rss_bytes;
    for (const auto& w : workloads) {
      if (w.gateway_model != m.name) continue;
      vram = w.vram_bytes;
      rss = std::max(rss, w.rss_bytes);
    }
    out << "  "
        << table_row(kColumns,
                     {m.name, m.state, m.pid > 0 ? std::to_string(m.pid) : "-",
                      std::to_string(m.queued),
                      m.queued ? format_duration(m.oldest_wait_seconds) : "-",
                      format_duration(m.mean_wait_seconds), vram ? format_bytes(vram) : "-",
                      rss ? format_bytes(rss) : "-"})
        << "\n";
    if (!m.last_error.empty()) out << wrap_hanging("    last error: ", m.last_error);
  }
  if (g.handoff) {
    out << wrap_hanging("  Image renders: ", g.handoff->summary());
  }
}

}  // namespace memopt::cli
