#pragma once
// Where the views find the `serve` gateway: the [serve] listen (and api_key)
// of the same config.toml the gateway reads, unless --gateway names another
// address or "none". Shared by `ai status`, `ai models`, `ai watch` and the
// daemon so they all read the same gateway.
#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "assembler/gateway_collector.h"
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

// The gateway's section as text in 80 columns: one row per model with its
// state, backend pid, queue length, the oldest queued request's wait and
// the mean wait, and the VRAM / RAM of the backend process (joined by pid
// from `workloads`), or why the gateway could not be read.
void print_gateway(std::ostream& out, const snapshot::GatewayStatus& g,
                   const std::vector<snapshot::Workload>& workloads);

}  // namespace memopt::cli
