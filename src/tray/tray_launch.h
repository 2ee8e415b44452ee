#pragma once
// How `ruvector-memopt tray` hands over to the tray helper beside this
// binary, the platform seam: Linux replaces this process with
// ruvector-memopt-tray (execv, tray_launch_linux.cc); Windows starts
// ruvector-memopt-tray.exe, a desktop program, and waits for it only with
// --dump-menu, whose output it shares (tray_launch_win.cc).
#include "cli/command.h"
#include "tray/tray_options.h"

namespace memopt::cli {

int run_tray_helper(CliContext& ctx, const TrayOptions& o);

}  // namespace memopt::cli
