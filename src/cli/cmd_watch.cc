// `ruvector-memopt ai watch`: the live terminal dashboard, standalone or
// attached to a running daemon.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <sys/stat.h>

#include "cli/command.h"
#include "cli/gateway_target.h"
#include "cli/option_checks.h"
#include "actuator/actuator.h"
#include "assembler/assembler.h"
#include "detect/detector.h"
#include "policy/profile.h"
#include "runtimes/http.h"
#include "runtimes/runtime.h"
#include "ui/dashboard_json.h"
#include "ui/source.h"
#include "ui/terminal.h"
#include "ui/token_file.h"

namespace memopt::cli {
namespace {

struct WatchCliOptions {
  GatewayCliOptions gateway;
  std::string daemon_url;
  std::string token_file;
  double interval_seconds = 1.0;
  bool no_color = false;
  bool plain = false;
  int frames = 0;
};

// The standalone sampler: the one assembler, kept across frames so loaded
// models are tracked (idle time, KV peak) as the daemon tracks them.
class StandaloneSampler {
 public:
  StandaloneSampler(const GlobalOptions& g, const GatewayCliOptions& gw)
      : assembler_(options(g, gw)) {}

  Result<snapshot::Snapshot> status() {
    auto s = assembler_.assemble(assembler::monotonic_seconds());
    if (s) {
      if (auto prof = policy::active_profile(policy::default_state_dir())) s->profile = *prof;
      std::lock_guard lock(mu_);
      keys_ = detect::sendable_keys(*s);
    }
    return s;
  }
  // The keys of the servers the last frame saw (detect::sendable_keys), for
  // the unload key: a server started with an API key gets it, as from the
  // daemon.
  std::map<std::string, std::string> keys() const {
    std::lock_guard lock(mu_);
    return keys_;
  }

 private:
  static assembler::AssembleOptions options(const GlobalOptions& g, const GatewayCliOptions& gw) {
    assembler::AssembleOptions a;
    a.gateway = gateway_target(gw);
    a.proc_root = g.proc_root;
    a.sys_root = g.sys_root;
    a.nvml_library = g.nvml_library;
    a.full_scan = false;  // a live view: the selective scan, as `ai status`
    return a;
  }
  assembler::SnapshotAssembler assembler_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> keys_;
};

// The active profile and its thresholds, from the user's config and state.
Result<ui::ProfileView> active_profile_view() {
  auto set = policy::load_profiles(policy::default_config_path());
  if (!set) return set.error();
  auto name = policy::active_profile(policy::default_state_dir());
  if (!name) return name.error();
  const policy::Profile* p = set->find(*name);
  if (!p) return make_error("active profile '" + *name + "' is not defined in " + set->source);
  return ui::ProfileView{p->name, p->auto_compact_threshold, p->auto_offload_threshold, p->reserve_ram_gb};
}

Result<std::string> switch_profile() {
  auto current = policy::active_profile(policy::default_state_dir());
  const std::string next = ui::next_builtin_profile(current ? *current : "");
  if (auto st = policy::set_active_profile(policy::default_state_dir(), next); !st) return st.error();
  return "profile " + next;
}

// Unloads through the one actuator (actuator/actuator.h), as the daemon and
// `ai optimize` do: the runtime's own API (Ollama keep_alive 0, llama.cpp
// router /models/unload, LM Studio's unload, ...).
Result<std::string> unload_model(const ui::WorkloadView& w,
                                 std::map<std::string, std::string> keys) {
  if (w.model.empty()) return make_error("the selected row has no model to unload");
  if (!runtimes::runtime_from_name(w.runtime)) {
    return make_error(w.runtime + " has no API this tool can unload through");
  }
  if (w.endpoint.empty()) return make_error(w.model + ": its runtime's API endpoint is unknown");
  policy::Action a;
  a.kind = policy::ActionKind::kUnload;
  a.runtime = w.runtime;
  a.endpoint = w.endpoint;
  a.model = w.model;
  a.target = w.runtime + "/" + w.model;
  auto act = actuator::make_runtime_actuator();
  act->set_keys(std::move(keys));
  if (auto st = act->apply(a); !st) return st.error();
  return "unload " + w.model + ": requested";
}

int run_watch(CliContext& ctx, const WatchCliOptions& o) {
  std::unique_ptr<ui::DashboardSource> source;
  if (!o.daemon_url.empty()) {
    if (o.daemon_url.rfind("http://", 0) != 0) {
      return usage_error(ctx, "--daemon wants http://HOST:PORT, got '" + o.daemon_url + "'");
    }
    // A missing default file leaves the view read-only, a bad one is an error.
    const std::string token_file = ui::token_file_or_default(o.token_file);
    std::string token;
    if (!token_file.empty()) {
      auto t = ui::read_token_file(token_file);
      if (!t) return fail(ctx, t.error().message);
      token = *t;
    }
    source = ui::make_daemon_source(o.daemon_url, token, [](const std::string& name) {
      std::optional<ui::ProfileView> out;
      auto set = policy::load_profiles(policy::default_config_path());
      if (!set) return out;
      if (const policy::Profile* p = set->find(name)) {
        out = ui::ProfileView{p->name, p->auto_compact_threshold, p->auto_offload_threshold, p->reserve_ram_gb};
      }
      return out;
    });
  } else {
    ui::StandaloneHooks hooks;
    auto sampler = std::make_shared<StandaloneSampler>(ctx.opts, o.gateway);
    hooks.status = [sampler]() { return sampler->status(); };
    hooks.active_profile = active_profile_view;
    hooks.next_profile = switch_profile;
    hooks.unload = [sampler](const ui::WorkloadView& w) { return unload_model(w, sampler->keys()); };
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
  if (ui::run_fullscreen_watch(*source, w, error) != 0) return fail(ctx, error);
  return kExitOk;
}

RegisterCommands reg(80, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, plan, status, watch, ...");
  auto* cmd = ai->add_subcommand("watch", "Live dashboard: VRAM/RAM bars, history, workloads, actions");
  auto o = std::make_shared<WatchCliOptions>();
  cmd->add_option("--daemon", o->daemon_url, "Attach to a running daemon (http://127.0.0.1:7878)");
  cmd->add_option("--token-file", o->token_file,
                  "Daemon API token file for the u/p/o keys (default: the state dir's api_token)");
  cmd->add_option("--interval", o->interval_seconds, "Seconds between readings")
      ->check(finite_in(0.1, 3600))
      ->capture_default_str();
  cmd->add_flag("--no-color", o->no_color, "No colours (also when NO_COLOR is set)");
  add_gateway_options(cmd, o->gateway);
  cmd->add_flag("--plain", o->plain, "Plain refreshing text instead of the full screen");
  cmd->add_option("--frames", o->frames, "Plain mode: print this many frames, then exit")
      ->check(CLI::Range(1, 1000000));
  root.bind(cmd, [o](CliContext& ctx) { return run_watch(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
