// `ruvector-memopt ai watch`: the live terminal dashboard, standalone or
// attached to a running daemon.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <sys/stat.h>

#include "cli/command.h"
#include "proc/host_memory.h"
#include "ui/dashboard_json.h"
#include "ui/source.h"
#include "ui/terminal.h"

namespace memopt::cli {
namespace {

struct WatchCliOptions {
  std::string daemon_url;
  std::string token_file;
  double interval_seconds = 1.0;
  bool no_color = false;
  bool plain = false;
  int frames = 0;
};

// The standalone status document: what this process can collect itself.
Result<nlohmann::json> standalone_status(const GlobalOptions& g) {
  auto mem = proc::read_host_memory(g.proc_root);
  if (!mem) return mem.error();
  nlohmann::json s;
  s["schema"] = "ruvector-memopt.status/1";
  s["host"] = {{"total_bytes", mem->total_bytes},
               {"available_bytes", mem->available_bytes},
               {"swap_total_bytes", mem->swap_total_bytes},
               {"swap_free_bytes", mem->swap_free_bytes}};
  s["gpus"] = nlohmann::json::array();
  s["workloads"] = nlohmann::json::array();
  return s;
}

// The token file must be the user's own and private, as the daemon writes it.
Result<std::string> read_token(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return make_error("cannot read the daemon token " + path + ": it does not exist");
  }
  if ((st.st_mode & 077) != 0) {
    return make_error("the daemon token " + path + " is readable by others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty() || token.size() > 512) return make_error("the daemon token " + path + " is empty or malformed");
  return token;
}

int run_watch(CliContext& ctx, const WatchCliOptions& o) {
  std::unique_ptr<ui::DashboardSource> source;
  if (!o.daemon_url.empty()) {
    if (o.daemon_url.rfind("http://", 0) != 0) {
      *ctx.err << "ruvector-memopt: --daemon wants http://HOST:PORT, got '" << o.daemon_url << "'\n";
      return kExitUsage;
    }
    std::string token;
    if (!o.token_file.empty()) {
      auto t = read_token(o.token_file);
      if (!t) return fail(ctx, t.error().message);
      token = *t;
    }
    source = ui::make_daemon_source(o.daemon_url, token);
  } else {
    ui::StandaloneHooks hooks;
    GlobalOptions g = ctx.opts;
    hooks.status = [g]() { return standalone_status(g); };
    source = ui::make_standalone_source(std::move(hooks));
  }

  if (ctx.opts.json) {
    auto d = source->sample();
    if (!d) return fail(ctx, d.error().message);
    print_json(ctx, ui::dashboard_to_json(*d));
    return kExitOk;
  }

  ui::WatchOptions w;
  w.interval_seconds = o.interval_seconds;
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  const char* no_color = std::getenv("NO_COLOR");
  w.color = !o.no_color && !(no_color && *no_color);
  w.max_frames = o.frames;
  if (o.plain || o.frames > 0 || ui::needs_plain_mode(std::getenv("TERM"), isatty(STDOUT_FILENO))) {
    int cols = 80;
    if (const char* c = std::getenv("COLUMNS")) cols = std::clamp(std::atoi(c), 40, 400);
    return ui::run_plain_watch(*source, w, stdout, cols);
  }
  std::string error;
  if (ui::run_curses_watch(*source, w, error) != 0) return fail(ctx, error);
  return kExitOk;
}

RegisterCommands reg(80, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, plan, status, watch, ...");
  auto* cmd = ai->add_subcommand("watch", "Live dashboard: VRAM/RAM bars, history, workloads, actions");
  auto o = std::make_shared<WatchCliOptions>();
  cmd->add_option("--daemon", o->daemon_url, "Attach to a running daemon (http://127.0.0.1:7878)");
  cmd->add_option("--token-file", o->token_file, "Daemon API token file (for u/p/o keys)");
  cmd->add_option("--interval", o->interval_seconds, "Seconds between readings")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--no-color", o->no_color, "No colours (also when NO_COLOR is set)");
  cmd->add_flag("--plain", o->plain, "Plain refreshing text instead of the full screen");
  cmd->add_option("--frames", o->frames, "Plain mode: print this many frames, then exit")
      ->check(CLI::Range(1, 1000000));
  root.bind(cmd, [o](CliContext& ctx) { return run_watch(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
