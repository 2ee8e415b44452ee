// The tray helper on Windows (tray/tray_launch.h): ruvector-memopt-tray.exe
// beside this program, started with CreateProcess (no shell). The icon runs
// on by itself; with --dump-menu this command waits and the helper writes
// to this console.
#include <string>
#include <vector>

#include "tray/tray_launch.h"
#include "util/process_win.h"

namespace memopt::cli {

int run_tray_helper(CliContext& ctx, const TrayOptions& o) {
  auto self = this_executable();
  if (!self) return fail(ctx, "tray: " + self.error().message);
  const std::string helper = self->substr(0, self->rfind('/')) + "/ruvector-memopt-tray.exe";
  std::vector<std::string> args = tray_args(o, ctx.opts.json);
  args.insert(args.begin(), helper);
  ctx.out->flush();
  ctx.err->flush();
  auto started = start_program(args, false, o.dump_menu, o.dump_menu);
  if (!started) return fail(ctx, "tray: " + started.error().message);
  if (o.dump_menu) return started->exit_code;
  *ctx.out << "tray started (pid " << started->pid << ")\n";
  return kExitOk;
}

}  // namespace memopt::cli
