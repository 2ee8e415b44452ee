#pragma once
// Where the views find the `serve` gateway: the [serve] listen (and api_key)
// of the same config.toml the gateway reads, unless --gateway names another
// address or "none". Shared by `ai status`, `ai models`, `ai watch` and the
// daemon so they all read the same gateway.
#include <CLI/CLI.hpp>
#include <memory>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "assembler/gateway_collector.h"
#include "cli/command.h"
#include "serve/gateway.h"
#include "snapshot/snapshot.h"

namespace memopt::cli {

struct GatewayCliOptions {
  std::string config;   // config.toml; "" = the default path
  std::string gateway;  // --gateway HOST:PORT, or "none"; "" = from the config
};

// Adds --gateway (and --config when `with_config`: commands that have their
// own --config pass false and share theirs through `opts.config`).
void add_gateway_options(CLI::App* cmd, GatewayCliOptions& opts, bool with_config = true);

// nullopt when no gateway is configured (no config file, no [serve] table, or
// --gateway none). A [serve] table that cannot be read gives a target whose
// listen is "" and whose collection then reports that error.
std::optional<assembler::GatewayTarget> gateway_target(const GatewayCliOptions& opts);

// The gateway as `serve` and `daemon --serve` run it: the [serve] table of
// `config`, `listen` overriding its address when not empty, the active
// profile from `state_dir` (memory_budget = "auto"), backend logs in
// `log_dir` (empty: <state_dir>/serve-logs, created private). Not started yet.
struct GatewayStart {
  std::string config;
  std::string listen;
  std::string state_dir;
  std::string log_dir;
  // daemon --serve: the request log lives in the daemon's history database
  // ("": a file in state_dir).
  std::string history_path;
  // daemon --serve: the daemon sampler's GPU reader (null: the gateway's own).
  std::shared_ptr<gpu::GpuCollector> gpus;
};
Result<std::unique_ptr<serve::Gateway>> create_gateway(const GlobalOptions& g,
                                                       const GatewayStart& s);
// `daemon --serve`: creates and starts the gateway in this process and, with
// `retarget`, points `target` at the port it bound; returns what stops it and
// every backend it started, and what reads its state document (for the
// daemon's sampler, without HTTP). The Windows build starts no backends yet:
// there it fails saying so (gateway_start_win.cc).
struct InProcessGateway {
  std::function<void()> stop;
  std::function<nlohmann::json()> state;
};
Result<InProcessGateway> start_gateway_in_process(
    const GlobalOptions& g, const GatewayStart& s, std::optional<assembler::GatewayTarget>* target,
    bool retarget);

// The gateway's section as text in 80 columns: one row per model with its
// state, backend pid, queue length, the oldest queued request's wait and
// the mean wait, and the VRAM / RAM of the backend process (joined by pid
// from `workloads`), or why the gateway could not be read.
void print_gateway(std::ostream& out, const snapshot::GatewayStatus& g,
                   const std::vector<snapshot::Workload>& workloads);

}  // namespace memopt::cli
