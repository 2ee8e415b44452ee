#pragma once
// vLLM OpenAI-compatible server client (default port 8000): /version,
// /health, /v1/models, /metrics (V1 names with the pre-0.12 fallbacks,
// cache_config_info), and sleep mode (/sleep, /wake_up, /is_sleeping), the
// only way to free a vLLM server's VRAM without stopping it (§3).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/prometheus.h"
#include "runtimes/runtime.h"

namespace memopt::runtimes {

struct VllmModel {
  std::string id;
  std::string parent;  // non-empty for a LoRA adapter
  std::optional<uint64_t> max_model_len;
};

struct VllmEngineState {
  KVCacheMetrics kv;
  std::optional<uint64_t> requests_running, requests_waiting, preemptions;
  std::optional<double> gpu_memory_utilization;  // cache_config_info label
  std::string sleep_state;  // awake | weights_offloaded | discard_all; empty if not exported
};

Result<std::vector<VllmModel>> parse_vllm_models(std::string_view body, const std::string& where);
// The engine figures for `model_name` (all engines summed; ratios take the
// max). An empty model_name takes every series.
VllmEngineState vllm_engine_state(const MetricsPage& page, const std::string& model_name);

class VllmClient : public RuntimeClient {
 public:
  VllmClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kVllm; }
  Result<RuntimeInfo> info() const override;
  Result<std::vector<LoadedModel>> loaded_models() const override;
  // Sleep level 1 (weights to host RAM, KV dropped) / wake up.
  Status unload(const std::string& model) const override;
  Status preload(const std::string& model, const PreloadOptions& options) const override;

  Result<std::vector<VllmModel>> models() const;
  Status sleep(int level) const;
  Status wake_up() const;
  Result<bool> is_sleeping() const;
};

}  // namespace memopt::runtimes
