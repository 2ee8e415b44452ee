#pragma once
// The options of `ruvector-memopt tray`, shared by the command in the main
// binary (src/tray/cmd_tray.cc: --help, parsing, then exec) and the helper
// that draws the icon (src/tray/tray_main_linux.cc, tray_main_win.cc), so both parse alike.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace memopt::cli {

struct TrayOptions {
  std::string daemon_url = "http://127.0.0.1:7878";
  std::string token_file;
  double interval_seconds = 2.0;
  bool dump_menu = false;
  std::vector<std::string> clicks;  // --click LABEL (with --dump-menu)
};

inline void add_tray_options(CLI::App* cmd, TrayOptions& o) {
  cmd->add_option("--daemon", o.daemon_url, "the daemon's API URL")->capture_default_str();
  cmd->add_option("--token-file", o.token_file,
                  "daemon API token file for the actions (default: the state dir's api_token)");
  cmd->add_option("--interval", o.interval_seconds, "seconds between status polls")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 3600.0));
  cmd->add_flag("--dump-menu", o.dump_menu, "build the menu once, print its items and exit (tests)");
  cmd->add_option("--click", o.clicks, "with --dump-menu: activate the item LABEL (repeatable)")
      ->needs("--dump-menu");
}

// The helper's command line for `o` (and the global --json).
inline std::vector<std::string> tray_args(const TrayOptions& o, bool json) {
  std::vector<std::string> a;
  if (json) a.push_back("--json");
  a.insert(a.end(), {"--daemon", o.daemon_url, "--interval", std::to_string(o.interval_seconds)});
  if (!o.token_file.empty()) a.insert(a.end(), {"--token-file", o.token_file});
  if (o.dump_menu) a.push_back("--dump-menu");
  for (const auto& c : o.clicks) a.insert(a.end(), {"--click", c});
  return a;
}

}  // namespace memopt::cli
