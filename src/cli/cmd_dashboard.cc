// `ruvector-memopt ai dashboard`: the web dashboard's address, with the API
// token in the URL fragment. The fragment never leaves the browser (it is not
// sent to the server, not logged, not in Referer); the page moves it into the
// tab's sessionStorage and drops it from the address bar. Only who can read
// the 0600 token file gets a URL that can act.
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "cli/option_checks.h"
#include "policy/profile.h"
#include "ui/token_file.h"

namespace memopt::cli {
namespace {

struct DashboardOptions {
  std::string listen;     // HOST:PORT; default: [daemon] listen from the config
  std::string state_dir;  // default: $XDG_STATE_HOME/ruvector-memopt
};

// HOST:PORT (an IPv6 host in brackets), the port 1-65535: what goes into
// the printed URL.
Result<std::string> parse_listen(const std::string& v) {
  const size_t colon = v.rfind(':');
  const std::string host = colon == std::string::npos ? "" : v.substr(0, colon);
  const std::string port = colon == std::string::npos ? "" : v.substr(colon + 1);
  const bool port_ok = !port.empty() && port.size() <= 5 &&
                       port.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoul(port) >= 1 && std::stoul(port) <= 65535;
  const bool host_ok = !host.empty() && host.find_first_of("/#?@ ") == std::string::npos;
  if (!port_ok || !host_ok) return make_error("'" + v + "' is not HOST:PORT, e.g. 127.0.0.1:7878");
  return v;
}

// The token is only printed when the file is private and the user's own,
// as the daemon writes it (ui::read_token_file checks that, on each system).
Result<std::string> read_private_token(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error("no API token at " + path + ": start `ruvector-memopt daemon` once (it creates it)");
  }
  auto token = ui::read_token_file(path);
  if (!token) return token.error();
  if (token->size() > 256 ||
      token->find_first_not_of("0123456789abcdefABCDEF-_") != std::string::npos) {
    return make_error(path + " does not hold a token the daemon wrote");
  }
  return token;
}

int run_dashboard(CliContext& ctx, const DashboardOptions& o) {
  std::string listen = o.listen;
  if (listen.empty()) {
    auto set = policy::load_profiles(policy::default_config_path());
    if (!set) return fail(ctx, set.error().message);
    listen = set->daemon.listen;
  }
  // A daemon bound to every address is still reached on loopback from here.
  for (const char* any : {"0.0.0.0:", "[::]:"}) {
    if (listen.rfind(any, 0) == 0) listen = "127.0.0.1:" + listen.substr(std::string(any).size());
  }
  const std::string state_dir = o.state_dir.empty() ? policy::default_state_dir() : o.state_dir;
  const std::string token_file = state_dir + "/api_token";  // daemon/api_auth.h token_path()
  auto token = read_private_token(token_file);
  if (!token) return fail(ctx, token.error().message);
  const std::string url = "http://" + listen + "/#token=" + *token;
  if (ctx.opts.json) {
    print_json(ctx, {{"schema", "ruvector-memopt.dashboard/1"}, {"url", url}, {"token_file", token_file}});
    return kExitOk;
  }
  *ctx.out << "Open the dashboard (the link carries your API token; do not share it):\n  " << url << "\n";
  return kExitOk;
}

RegisterCommands reg(81, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, plan, status, watch, ...");
  auto* cmd = ai->add_subcommand("dashboard", "Print the web dashboard's URL (with the API token)");
  auto o = std::make_shared<DashboardOptions>();
  cmd->add_option("--listen", o->listen, "The daemon's HOST:PORT (default: the config's [daemon] listen)")
      ->check(parsed_by(parse_listen));
  cmd->add_option("--state-dir", o->state_dir, "The daemon's state dir (default: $XDG_STATE_HOME/ruvector-memopt)");
  root.bind(cmd, [o](CliContext& ctx) { return run_dashboard(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
