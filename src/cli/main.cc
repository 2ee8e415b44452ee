// ruvector-memopt: entry point. Parses the global options, lets every
// registered command group add itself, runs the chosen command.
#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "memopt_version.h"
#include "util/text.h"

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

// Help text fits an 80-column terminal: CLI11 2.1 never wraps, so long
// descriptions are wrapped here under their column, and a name too wide for
// the left column gets a line of its own.
class WrappingFormatter : public CLI::Formatter {
 public:
  static constexpr size_t kWidth = 80;

  std::string make_option(const CLI::Option* opt, bool is_positional) const override {
    return row(make_option_name(opt, is_positional) + make_option_opts(opt), make_option_desc(opt));
  }
  std::string make_subcommand(const CLI::App* sub) const override {
    return row(sub->get_display_name(true), sub->get_description());
  }
  std::string make_description(const CLI::App* app) const override {
    std::string desc = CLI::Formatter::make_description(app);
    std::string out;
    size_t start = 0;
    while (start < desc.size()) {
      size_t nl = desc.find('\n', start);
      std::string line = desc.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      for (const auto& w : wrap_lines(line, kWidth)) out += w + "\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return out;
  }

 private:
  std::string row(const std::string& name, const std::string& desc) const {
    const size_t col = get_column_width();
    std::string left = "  " + name;
    std::string out;
    std::vector<std::string> body = wrap_lines(desc, kWidth - col);
    if (left.size() + 1 > col) {
      out += left + "\n";
      left.clear();
    }
    for (const auto& line : body) {
      left.resize(col, ' ');
      out += left + line + "\n";
      left.clear();
    }
    return out;
  }
};

}  // namespace

RegisterCommands::RegisterCommands(int order, Registrar registrar) {
  registry().push_back({order, std::move(registrar)});
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
    // Human output goes through the terminal-safe filter (util/text.h), so
    // no name, path or runtime answer a command prints can drive the
    // terminal; JSON escapes control characters itself.
    std::ostream* const plain_out = ctx->out;
    TerminalSafeBuf safe_buf(plain_out->rdbuf());
    std::ostream safe_out(&safe_buf);
    if (!ctx->opts.json) ctx->out = &safe_out;
    struct Restore {
      CliContext* ctx;
      std::ostream* out;
      ~Restore() {
        ctx->out->flush();
        ctx->out = out;
      }
    } restore{ctx, plain_out};
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
  // One syntax on every system: CLI11 would read "/path" as an option "/path"
  // on Windows (its /flag style), so a model path "/models/x.gguf" or an
  // argument given by Wine from Unix would be lost. Set before the commands
  // are added: subcommands inherit it.
  app.allow_windows_style_options(false);
  app.require_subcommand(1);
  auto formatter = std::make_shared<WrappingFormatter>();
  formatter->column_width(30);
  app.formatter(formatter);
  // A bad value is echoed in the message; it must not drive the terminal.
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    return memopt::terminal_safe(CLI::FailureMessage::simple(a, e), true);
  });

  CliContext ctx;
  app.add_flag("--json", ctx.opts.json, "Print machine-readable JSON (schemas: docs/json/)");
  app.add_flag("-v,--verbose", ctx.opts.verbose, "More detail (repeatable)");
  app.add_option("--proc-root", ctx.opts.proc_root, "procfs root to read (for tests and containers)")
      ->capture_default_str();
  app.add_option("--sys-root", ctx.opts.sys_root, "sysfs root to read (for tests and containers)")
      ->capture_default_str();
  app.add_option("--nvml-library", ctx.opts.nvml_library,
                 "libnvidia-ml.so.1 to load (default: the system's)");

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
