#pragma once
// The CLI edge: commands register themselves (one file per command group,
// src/cli/cmd_*.cc) so adding a command never touches main.cc. Exceptions stop
// here: a command returns an exit code (0 ok, 1 runtime failure, 2 usage).
#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace memopt::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Options every command honours; roots are parameters so tests can point the
// whole program at fixture trees.
struct GlobalOptions {
  bool json = false;
  int verbose = 0;
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;  // empty: the system's libnvidia-ml.so.1
};

struct CliContext {
  GlobalOptions opts;
  int exit_code = kExitOk;
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

// Prints `doc` as the command's JSON (pretty, with a trailing newline).
void print_json(CliContext& ctx, const nlohmann::json& doc);
// Prints "ruvector-memopt: <message>" on stderr and returns kExitFailure.
int fail(CliContext& ctx, const std::string& message);
// The same for a usage error (a bad argument): returns kExitUsage.
int usage_error(CliContext& ctx, const std::string& message);

class CliRoot {
 public:
  CliRoot(CLI::App& app, CliContext& ctx) : app_(app), ctx_(ctx) {}
  CLI::App& app() { return app_; }
  CliContext& ctx() { return ctx_; }
  // Gets or creates a command group such as "ai", "vram", "model".
  CLI::App* group(const std::string& name, const std::string& description);
  // Binds `run` as the callback of `cmd`; its return value is the exit code.
  void bind(CLI::App* cmd, std::function<int(CliContext&)> run);

 private:
  CLI::App& app_;
  CliContext& ctx_;
};

using Registrar = std::function<void(CliRoot&)>;
// `order` sorts the groups in --help; lower first.
struct RegisterCommands {
  RegisterCommands(int order, Registrar registrar);
};

}  // namespace memopt::cli
