// `ruvector-memopt tray`: parses the tray's options (so --help and mistakes
// are answered here, like every command's) and hands over to the helper
// `ruvector-memopt-tray` beside this binary (src/tray/tray_main.cc), which
// is the only program that loads GTK. The helper is run with execv: no
// shell, the arguments passed as they were parsed.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "tray/tray_options.h"

namespace memopt::cli {
namespace {

int exec_helper(CliContext& ctx, const TrayOptions& o) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return fail(ctx, "tray: cannot find this program's own path (/proc/self/exe): " + ec.message());
  const std::string helper = (self.parent_path() / "ruvector-memopt-tray").string();
  if (::access(helper.c_str(), X_OK) != 0) {
    return fail(ctx, "tray: the tray helper " + helper + " is missing (" + std::strerror(errno) +
                         "); it is built with the binary where libayatana-appindicator3 is installed");
  }
  std::vector<std::string> args = tray_args(o, ctx.opts.json);
  args.insert(args.begin(), helper);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ctx.out->flush();
  ctx.err->flush();
  ::execv(helper.c_str(), argv.data());
  return fail(ctx, "tray: cannot run " + helper + ": " + std::strerror(errno));
}

RegisterCommands reg(70, [](CliRoot& root) {
  auto o = std::make_shared<TrayOptions>();
  auto* cmd = root.app().add_subcommand("tray", "Tray icon with the AI memory menu (talks to the daemon)");
  add_tray_options(cmd, *o);
  root.bind(cmd, [o](CliContext& ctx) { return exec_helper(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
