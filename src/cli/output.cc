// The two output helpers every command uses (command.h); a file of their own
// so the tray helper (src/tray/tray_main.cc) links them without the CLI.
#include "cli/command.h"

namespace memopt::cli {

void print_json(CliContext& ctx, const nlohmann::json& doc) {
  *ctx.out << doc.dump(2) << "\n";
}

int fail(CliContext& ctx, const std::string& message) {
  *ctx.err << "ruvector-memopt: " << message << "\n";
  return kExitFailure;
}

}  // namespace memopt::cli
