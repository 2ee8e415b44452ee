#pragma once
// SGLang client (default port 30000): /server_info (KV pool size, memory
// usage), /model_info, /metrics (token usage), and memory release where the
// server runs with --enable-memory-saver (runtime-apis.md §4).
#include <optional>
#include <string>
#include <string_view>

#include "runtimes/prometheus.h"
#include "runtimes/runtime.h"

namespace memopt::runtimes {

struct SglangServerInfo {
  std::string version, model_path, status;
  std::optional<uint64_t> max_total_num_tokens;  // KV pool, tokens
  std::optional<uint64_t> context_length;
  std::optional<bool> memory_saver;  // enable_memory_saver
  // internal_states[].memory_usage in SGLang's "GB" (its memory pool divides
  // bytes by 1024^3), rounded to 2 decimals, summed over ranks, as bytes.
  std::optional<uint64_t> weight_bytes, kvcache_bytes, graph_bytes;
};

Result<SglangServerInfo> parse_sglang_server_info(std::string_view body, const std::string& where);
// KV: pool capacity from max_total_num_tokens, used from num_used_tokens,
// ratio from token_usage (runtime-apis.md §4.2); all measured.
KVCacheMetrics sglang_kv(const SglangServerInfo* info, const MetricsPage* page);

class SglangClient : public RuntimeClient {
 public:
  SglangClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kSglang; }
  Result<RuntimeInfo> info() const override;
  Result<std::vector<LoadedModel>> loaded_models() const override;
  // pause_generation + release_memory_occupation / resume + continue.
  Status unload(const std::string& model) const override;
  Status preload(const std::string& model, const PreloadOptions& options) const override;
  Result<SglangServerInfo> server_info() const;
};

}  // namespace memopt::runtimes
