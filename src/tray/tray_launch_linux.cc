// The tray helper on Linux (tray/tray_launch.h): execv, so the helper
// takes this process's place (and its pid, for whoever started it).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tray/tray_launch.h"

namespace memopt::cli {

int run_tray_helper(CliContext& ctx, const TrayOptions& o) {
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

}  // namespace memopt::cli
