// The two output helpers every command uses (command.h); a file of their own
// so the tray helper (src/tray/tray_main_linux.cc, tray_main_win.cc) links them without the CLI.
#include "cli/command.h"
#include "util/text.h"

namespace memopt::cli {

void print_json(CliContext& ctx, const nlohmann::json& doc) {
  // Strings from files and other programs may not be UTF-8; JSON must be,
  // so such bytes become U+FFFD rather than an exception.
  *ctx.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

int fail(CliContext& ctx, const std::string& message) {
  *ctx.err << "ruvector-memopt: " << terminal_safe(message, true) << "\n";
  return kExitFailure;
}

int usage_error(CliContext& ctx, const std::string& message) {
  fail(ctx, message);
  return kExitUsage;
}

}  // namespace memopt::cli
