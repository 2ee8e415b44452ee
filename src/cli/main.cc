// ruvector-memopt: entry point. Parses the global options, lets every
// registered command group add itself, runs the chosen command.
#include <algorithm>
#include <exception>
#include <memory>
#include <vector>

#include "cli/command.h"
#include "memopt_version.h"

namespace memopt::cli {
namespace {

struct Entry {
  int order;
  Registrar registrar;
};

std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}

}  // namespace

RegisterCommands::RegisterCommands(int order, Registrar registrar) {
  registry().push_back({order, std::move(registrar)});
}

void print_json(CliContext& ctx, const nlohmann::json& doc) {
  *ctx.out << doc.dump(2) << "\n";
}

int fail(CliContext& ctx, const std::string& message) {
  *ctx.err << "ruvector-memopt: " << message << "\n";
  return kExitFailure;
}

CLI::App* CliRoot::group(const std::string& name, const std::string& description) {
  for (CLI::App* sub : app_.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  CLI::App* g = app_.add_subcommand(name, description);
  g->require_subcommand(1);
  g->fallthrough();
  return g;
}

void CliRoot::bind(CLI::App* cmd, std::function<int(CliContext&)> run) {
  CliContext* ctx = &ctx_;
  cmd->fallthrough();
  cmd->callback([ctx, run = std::move(run)]() {
    try {
      ctx->exit_code = run(*ctx);
    } catch (const CLI::Error&) {
      throw;
    } catch (const std::exception& e) {
      ctx->exit_code = fail(*ctx, e.what());
    }
  });
}

}  // namespace memopt::cli

int main(int argc, char** argv) {
  using namespace memopt::cli;
  CLI::App app{
      "ruvector-memopt: see what AI work runs on this machine and what memory it holds,\n"
      "plan how a model fits across GPUs and CPU, and free VRAM before it runs out.\n"
      "Exit codes: 0 ok, 1 runtime failure, 2 usage error.",
      "ruvector-memopt"};
  app.set_version_flag("--version", std::string("ruvector-memopt ") + MEMOPT_VERSION);
  app.require_subcommand(1);
  app.get_formatter()->column_width(30);

  CliContext ctx;
  app.add_flag("--json", ctx.opts.json, "Print machine-readable JSON (schema: docs/json-schema.md)");
  app.add_flag("-v,--verbose", ctx.opts.verbose, "More detail (repeatable)");
  app.add_option("--proc-root", ctx.opts.proc_root, "procfs root to read (for tests and containers)")
      ->capture_default_str();
  app.add_option("--sys-root", ctx.opts.sys_root, "sysfs root to read (for tests and containers)")
      ->capture_default_str();
  app.add_option("--nvml-library", ctx.opts.nvml_library,
                 "path of libnvidia-ml.so.1 to load (default: the system's)");

  CliRoot root(app, ctx);
  auto& entries = registry();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.order < b.order; });
  for (auto& e : entries) e.registrar(root);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return ctx.exit_code;
}
