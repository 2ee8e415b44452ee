// `ruvector-memopt serve`: the memory-aware gateway (src/serve/) in the
// foreground, configured by the [serve] table of config.toml.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <memory>
#include <thread>

#include "cli/command.h"
#include "cli/stop_signals.h"
#include "cli/gateway_target.h"
#include "policy/profile.h"
#include "serve/gateway.h"
#include "util/bytes.h"
#include "util/text.h"

namespace memopt::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

struct ServeCliOptions {
  std::string config;
  std::string listen;
  std::string state_dir;
  std::string log_dir;
  bool check = false;
};

void print_plans(std::ostream &out, const nlohmann::json &st) {
  for (const auto &d : st["devices"]) {
    out << fmt::format("Budget  {}: {}\n", d["device"].get<std::string>(),
                       format_bytes(d["budget_bytes"].get<uint64_t>()));
  }
  for (const auto &m : st["models"]) {
    uint64_t need = 0;
    for (const auto &b : m["planned_bytes"]) need += b.get<uint64_t>();
    out << fit(fmt::format("Model   {:<24} {:>10}  {}", m["name"].get<std::string>(),
                           need ? format_bytes(need) : "-", m["plan"].get<std::string>()),
               80)
        << "\n";
  }
  // The image servers whose renders the models yield to ([serve.image_generation]).
  const auto &h = st["handoff"];
  if (h.is_object() && h.value("enabled", false)) {
    std::string servers;
    for (const auto &s : h["servers"]) {
      servers += (servers.empty() ? "" : ", ") + s["runtime"].get<std::string>() + " " +
                 s["url"].get<std::string>();
    }
    out << wrap_hanging("Renders ", servers + ": render_handoff = " +
                                        h["mode"].get<std::string>() + " (profile " +
                                        h["profile"].get<std::string>() + ")");
  }
}

int run_serve(CliContext &ctx, const ServeCliOptions &o) {
  auto gw = create_gateway(ctx.opts, {o.config, o.listen, o.state_dir, o.log_dir, "", nullptr});
  if (!gw) return fail(ctx, gw.error().message);
  if (o.check) {
    if (ctx.opts.json) {
      print_json(ctx, (*gw)->state_json());
    } else {
      print_plans(*ctx.out, (*gw)->state_json());
    }
    return kExitOk;
  }
  if (auto st = (*gw)->start(); !st) return fail(ctx, st.error().message);
  on_stop_signals(on_signal);
  if (ctx.opts.json) {
    *ctx.out << nlohmann::json{{"listening", (*gw)->port()}, {"state", (*gw)->state_json()}}.dump()
             << std::endl;
  } else {
    const auto st = (*gw)->state_json();
    print_plans(*ctx.out, st);
    if (st["preload"]["log_error"].is_string()) {
      for (const auto &line :
           wrap_lines("Request log: " + st["preload"]["log_error"].get<std::string>(), 80)) {
        *ctx.out << line << "\n";
      }
    }
    *ctx.out << fmt::format(
                    "Serving on port {} (OpenAI /v1/*, Ollama /api/*); "
                    "Ctrl-C stops\n",
                    (*gw)->port())
             << std::flush;
  }
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*gw)->stop();
  return kExitOk;
}

RegisterCommands reg(65, [](CliRoot &root) {
  auto o = std::make_shared<ServeCliOptions>();
  o->config = policy::default_config_path();
  o->state_dir = policy::default_state_dir();
  auto *cmd =
      root.app().add_subcommand("serve",
                                "One OpenAI/Ollama port for local models: load on demand, evict "
                                "by memory");
  cmd->add_option("--config", o->config, "config file with a [serve] table")->capture_default_str();
  cmd->add_option("--listen", o->listen, "HOST:PORT (default [serve] listen, 127.0.0.1:8080)");
  cmd->add_option("--state-dir", o->state_dir, "active profile (for memory_budget = \"auto\")")
      ->capture_default_str();
  cmd->add_option("--log-dir", o->log_dir, "backend logs (default <state-dir>/serve-logs)");
  cmd->add_flag("--check", o->check, "read the config, plan every model, print, and exit");
  root.bind(cmd, [o](CliContext &ctx) { return run_serve(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
