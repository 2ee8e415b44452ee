#pragma once
// Endpoint options shared by the runtime commands (ai models, ai unload,
// ai preload, vram clear, vram defrag, ai benchmark), and the connection step
// that turns them into runtime clients.
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtimes/runtime.h"

namespace memopt::cli {

struct EndpointOptions {
  std::vector<std::string> endpoints;  // --endpoint URL (runtime found by probing)
  // One option per runtime with an API, from the registry (--ollama-host,
  // --llamacpp, --vllm, ...): runtime id -> URL as typed.
  std::map<std::string, std::string> by_runtime;
  int timeout_ms = 1500;
};

void add_endpoint_options(CLI::App* cmd, EndpointOptions& opts);

struct ConnectedRuntimes {
  std::vector<std::unique_ptr<runtimes::RuntimeClient>> clients;
  std::vector<runtimes::RuntimeInfo> infos;  // parallel to clients
  // Endpoints that were asked for but failed (explicit ones, or a default one
  // that answered wrongly); a default port with nothing listening is silent.
  std::vector<std::string> problems;
};

runtimes::HttpOptions http_options(const EndpointOptions& opts);
// Explicit endpoints only when any is given; otherwise the runtimes the
// process scan of `proc_root` finds listening (any port), OLLAMA_HOST and
// every runtime's default loopback port. Returns a usage error for malformed
// URLs.
Result<ConnectedRuntimes> connect_runtimes(const EndpointOptions& opts,
                                           const std::string& proc_root = "/proc");

}  // namespace memopt::cli
