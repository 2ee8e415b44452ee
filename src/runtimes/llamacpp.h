#pragma once
// llama.cpp `llama-server` client (default port 8080): /health, /props,
// /slots, /metrics (with the pre-May-2025 KV gauges where still exported),
// /v1/models, slot erase, and router mode's /models, /models/load and
// /models/unload (runtime-apis.md §2).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/prometheus.h"
#include "runtimes/runtime.h"

namespace memopt::runtimes {

struct LlamaCppProps {
  bool router = false;  // {"role":"router"}
  std::string build_info;
  std::string model_path;
  std::optional<uint64_t> n_ctx;        // per slot (default_generation_settings.n_ctx)
  std::optional<uint64_t> total_slots;  // --parallel
  std::optional<bool> is_sleeping;      // builds with --sleep-idle-seconds
};

struct LlamaCppSlot {
  uint64_t id = 0;
  std::optional<uint64_t> n_ctx;
  bool is_processing = false;
  // Tokens the slot's KV still holds: prompt + decoded (a finished slot keeps
  // its cache until reused, §2.4). nullopt for a never-used slot.
  std::optional<uint64_t> tokens_in_use;
};

struct LlamaCppRouterModel {
  std::string id, path, status;  // status.value: loaded | loading | unloaded | sleeping | ...
  bool failed = false;
};

Result<LlamaCppProps> parse_llamacpp_props(std::string_view body, const std::string& where);
Result<std::vector<LlamaCppSlot>> parse_llamacpp_slots(std::string_view body,
                                                       const std::string& where);
Result<std::vector<LlamaCppRouterModel>> parse_llamacpp_router_models(std::string_view body,
                                                                      const std::string& where);
// KV figures of a single-model server from what it exposes: slot contexts
// (capacity, derived), slot token counts (used, estimated) and the legacy
// llamacpp:kv_cache_tokens / kv_cache_usage_ratio gauges (measured) when the
// page has them. `metrics` may be null (no --metrics).
KVCacheMetrics llamacpp_kv(const LlamaCppProps& props, const std::vector<LlamaCppSlot>& slots,
                           const MetricsPage* metrics);

class LlamaCppClient : public RuntimeClient {
 public:
  LlamaCppClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kLlamaCpp; }
  Result<RuntimeInfo> info() const override;
  Result<std::vector<LoadedModel>> loaded_models() const override;
  Status unload(const std::string& model) const override;
  Status preload(const std::string& model, const PreloadOptions& options) const override;

  Result<LlamaCppProps> props() const;
  Result<std::vector<LlamaCppSlot>> slots() const;
  // nullopt page when the server runs without --metrics (501/404).
  Result<std::optional<MetricsPage>> metrics() const;
  // Clears a slot's KV cells (not the VRAM buffer, which is sized at start).
  Result<uint64_t> erase_slot(uint64_t slot_id) const;
};

}  // namespace memopt::runtimes
