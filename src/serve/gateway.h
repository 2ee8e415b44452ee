#pragma once
// The gateway (`ruvector-memopt serve`): one port that speaks the OpenAI and
// Ollama APIs and routes each request by its "model" to a backend, starting
// `command` models on demand when their planned footprint fits the memory
// budget, evicting idle ones by memory first (and waiting until their memory
// is back), queueing requests per model while a model loads, and passing
// streams through chunk by chunk.
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpu/collect.h"
#include "serve/admission.h"
#include "serve/config.h"
#include "serve/request_log.h"
#include "util/result.h"

namespace memopt::serve {

struct GatewayOptions {
  ServeConfig config;
  std::string log_dir;  // per-model backend logs (<name>.log)
  std::string proc_root = "/proc";
  std::string sys_root = "/sys";
  std::string nvml_library;
  // The GPU reader: `daemon --serve` passes the daemon sampler's, so one
  // process reads the GPUs through one NVML session; null: the gateway opens
  // its own at the roots (and keeps it open: no nvmlInit per read).
  std::shared_ptr<gpu::GpuCollector> gpus;
  // For memory_budget = "auto": the active profile's reserve (config + state).
  std::string config_path;
  std::string state_dir;
  // How long an evicted backend may take to give its memory back.
  std::chrono::milliseconds release_timeout{30000};
  std::chrono::milliseconds stop_grace{10000};
  // Where the request log (the preload predictor's memory) is kept; null:
  // <state_dir>/serve-requests.log, or nowhere when state_dir is "".
  std::shared_ptr<RequestLogStore> request_log;
};

// The footprint of one model on the budget devices, as the planner gives it.
struct ModelPlan {
  std::vector<uint64_t> need_bytes;  // per BudgetDevice
  std::string summary;               // "ctx 1024 x 1, KV f16, 0 of 9 layers on GPU"
};

class Gateway {
 public:
  // Reads the devices and plans every `command` model (an unplannable one is
  // an error now, not at its first request).
  static Result<std::unique_ptr<Gateway>> create(GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway &) = delete;
  Gateway &operator=(const Gateway &) = delete;

  // Binds the listen address and serves on a thread of its own.
  Status start();
  int port() const;
  // Stops serving, then every backend the gateway started.
  void stop();

  const std::vector<BudgetDevice> &devices() const;
  nlohmann::json state_json() const;  // GET /serve/state
  std::string metrics_text() const;   // GET /metrics

  struct Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace memopt::serve
