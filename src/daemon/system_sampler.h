#pragma once
// The real machine's sampler: the one snapshot assembler (assembler.h) with
// the daemon's settings — host memory, GPUs and the runtimes' models every
// tick, the full AI workload scan (/proc, mapped libraries, port probes) every
// `detect_interval_seconds`, because a /proc sweep each second would cost more
// CPU than the daemon's budget — and the policy's digest of each Snapshot.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "assembler/gateway_collector.h"
#include "gpu/collect.h"
#include "daemon/sample.h"

namespace memopt::daemon {

struct SamplerOptions {
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;
  double detect_interval_seconds = 10;
  bool probe_ports = true;
  // Runtime endpoints always polled ("ollama=http://127.0.0.1:11434"), on top
  // of those the detector finds, and the default Ollama address (OLLAMA_HOST).
  std::vector<std::string> endpoints;
  // The serve gateway whose state the status document carries (config.toml's
  // [serve] listen); nullopt: none.
  std::optional<assembler::GatewayTarget> gateway;
  // The GPU reader, shared with a gateway in the same process (`daemon
  // --serve`); null: the sampler opens its own at the roots.
  std::shared_ptr<gpu::GpuCollector> gpus;
  // `daemon --serve`: the in-process gateway's serve-state document, read
  // directly each sample instead of over loopback HTTP; unset: `gateway`'s
  // address is asked.
  std::function<nlohmann::json()> gateway_state;
};

std::unique_ptr<Sampler> make_system_sampler(const SamplerOptions& options);

}  // namespace memopt::daemon
