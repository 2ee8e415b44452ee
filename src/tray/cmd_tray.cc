// `ruvector-memopt tray`: parses the tray's options (so --help and mistakes
// are answered here, like every command's) and hands over to the helper
// `ruvector-memopt-tray` beside this binary (src/tray/tray_main_linux.cc,
// the only program that loads GTK; tray_main_win.cc on Windows), started
// without a shell, the arguments passed as they were parsed (tray_launch.h).
#include <memory>

#include "cli/command.h"
#include "tray/tray_launch.h"
#include "tray/tray_options.h"

namespace memopt::cli {
namespace {

RegisterCommands reg(70, [](CliRoot& root) {
  auto o = std::make_shared<TrayOptions>();
  auto* cmd = root.app().add_subcommand("tray", "Tray icon with the AI memory menu (talks to the daemon)");
  add_tray_options(cmd, *o);
  root.bind(cmd, [o](CliContext& ctx) { return run_tray_helper(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
