// `ruvector-memopt daemon`: the foreground daemon (systemd runs it as is).
#include <spdlog/spdlog.h>

#include <atomic>
#include <functional>
#include <memory>

#include "cli/command.h"
#include "cli/gateway_target.h"
#include "cli/option_checks.h"
#include "cli/stop_signals.h"
#include "daemon/daemon.h"
#include "daemon/system_sampler.h"

namespace memopt::cli {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

struct DaemonCliOptions {
  bool apply = false;
  double interval = 0;
  std::string listen;
  bool allow_remote = false;
  std::vector<std::string> allow_hosts;
  std::string tls_cert, tls_key;
  std::string config;
  std::string state_dir;
  std::string history;
  bool no_api = false;
  bool no_probe = false;
  double detect_interval = 10;
  uint64_t samples = 0;
  std::vector<std::string> endpoints;
  std::string gateway;  // --gateway HOST:PORT or none; "": [serve] listen of config
  bool serve = false;   // --serve: run the gateway ([serve] of config) in this process
};

int run_daemon(CliContext& ctx, const DaemonCliOptions& o) {
  daemon::DaemonOptions d;
  d.state_dir = o.state_dir;
  d.config_path = o.config;
  d.history_path = o.history;
  if (o.apply) d.apply = true;
  if (o.interval > 0) d.interval_seconds = o.interval;
  if (!o.listen.empty()) d.listen = o.listen;
  d.allow_remote = o.allow_remote;
  d.allow_hosts = o.allow_hosts;
  d.tls_cert = o.tls_cert;
  d.tls_key = o.tls_key;
  d.serve_api = !o.no_api;
  d.max_samples = o.samples;
  daemon::SamplerOptions so;
  so.proc_root = ctx.opts.proc_root;
  so.sys_root = ctx.opts.sys_root;
  so.nvml_library = ctx.opts.nvml_library;
  so.probe_ports = !o.no_probe;
  so.detect_interval_seconds = o.detect_interval;
  so.endpoints = o.endpoints;
  so.gateway = gateway_target({o.config, o.gateway});
  // --serve: the gateway runs in this process, started before the first
  // sample so the status document shows it from the start; its section is
  // read in process (no loopback HTTP) unless --gateway names another one.
  // It reads the GPUs through the sampler's collector: one NVML session.
  std::function<void()> stop_gateway;
  if (o.serve) {
    const std::string history = o.history.empty() ? o.state_dir + "/history.db" : o.history;
    so.gpus = std::make_shared<gpu::GpuCollector>(
        gpu::GpuRoots{so.proc_root, so.sys_root, so.nvml_library});
    auto stop =
        start_gateway_in_process(ctx.opts, {o.config, "", o.state_dir, "", history, so.gpus},
                                 &so.gateway, o.gateway.empty());
    if (!stop) return fail(ctx, "daemon --serve: " + stop.error().message);
    stop_gateway = std::move(stop->stop);
    if (o.gateway.empty()) so.gateway_state = std::move(stop->state);
  }
  daemon::Daemon dm(d, daemon::make_system_sampler(so), actuator::make_runtime_actuator());
  if (auto st = dm.start(); !st) return fail(ctx, st.error().message);
  on_stop_signals(on_signal);
  spdlog::info("ruvector-memopt daemon: every {} s, {} policy, {}, API on port {}, state in {}", dm.interval_seconds(),
               dm.predictive() ? "predictive" : "threshold", dm.applying() ? "applying actions" : "dry run (--apply to act)",
               dm.api_port(), o.state_dir);
  dm.run(g_stop);
  if (stop_gateway) stop_gateway();  // and every backend it started
  spdlog::info("stopped");
  return kExitOk;
}

RegisterCommands reg(60, [](CliRoot& root) {
  auto o = std::make_shared<DaemonCliOptions>();
  o->config = policy::default_config_path();
  o->state_dir = policy::default_state_dir();
  auto* cmd = root.app().add_subcommand("daemon", "Run in the foreground: sample, optimize, serve the API");
  cmd->add_flag("--apply", o->apply, "carry actions out (default: dry run, or apply = true in [daemon])");
  cmd->add_option("--interval", o->interval,
                  "seconds between samples (default 1, or [daemon] interval_seconds; 0.25 while "
                  "an OOM may be near)")
      ->check(finite_in(0, 3600, true));
  cmd->add_option("--listen", o->listen, "API address HOST:PORT (default 127.0.0.1:7878)");
  cmd->add_flag(
      "--allow-remote", o->allow_remote,
      "allow --listen off loopback: needs TLS, and every request a token (api_token_read to read)");
  cmd->add_option("--tls-cert", o->tls_cert,
                  "TLS certificate chain, PEM (default [daemon] tls_cert)");
  cmd->add_option("--tls-key", o->tls_key, "TLS private key, PEM (default [daemon] tls_key)");
  cmd->add_option("--allow-host", o->allow_hosts, "extra Host header value the API accepts (repeatable)");
  cmd->add_option("--config", o->config, "config file")->capture_default_str();
  cmd->add_option("--state-dir", o->state_dir, "token, active profile and history")->capture_default_str();
  cmd->add_option("--history", o->history, "history database (default <state-dir>/history.db)");
  cmd->add_flag("--no-api", o->no_api, "do not serve the HTTP API");
  cmd->add_flag("--no-probe", o->no_probe, "do not probe listening ports over HTTP");
  cmd->add_option("--detect-interval", o->detect_interval, "seconds between full workload scans")
      ->capture_default_str()
      ->check(finite_in(0, 3600));
  cmd->add_option("--samples", o->samples, "stop after this many samples (0 = run until stopped)")
      ->check(whole_up_to(UINT64_MAX / 2));
  cmd->add_option("--endpoint", o->endpoints, "runtime=URL to poll, e.g. ollama=http://127.0.0.1:11434");
  cmd->add_flag("--serve", o->serve,
                "also run the serve gateway ([serve] of --config) in this process; its models "
                "show in /api/v1/status");
  cmd->add_option("--gateway", o->gateway,
                  "serve gateway HOST:PORT whose state /api/v1/status carries, or none "
                  "(default: [serve] listen of --config)");
  root.bind(cmd, [o](CliContext& ctx) { return run_daemon(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
