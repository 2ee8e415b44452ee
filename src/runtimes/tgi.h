#pragma once
// Hugging Face TGI client (launcher default port 3000): /info and /metrics
// (queue, batch). TGI has no way to release memory short of stopping it (§5).
#include <optional>
#include <string>
#include <string_view>

#include "runtimes/runtime.h"

namespace memopt::runtimes {

struct TgiInfo {
  std::string model_id, version, router;
  std::optional<uint64_t> max_total_tokens;        // per request
  std::optional<uint64_t> max_batch_total_tokens;  // older builds: the KV budget
};

Result<TgiInfo> parse_tgi_info(std::string_view body, const std::string& where);

class TgiClient : public RuntimeClient {
 public:
  TgiClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kTgi; }
  Result<RuntimeInfo> info() const override;
  Result<std::vector<LoadedModel>> loaded_models() const override;
  Result<TgiInfo> tgi_info() const;
};

}  // namespace memopt::runtimes
