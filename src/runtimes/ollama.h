#pragma once
// Ollama client (default http://127.0.0.1:11434, OLLAMA_HOST): /api/version,
// /api/ps (loaded models), /api/tags (installed), /api/show, and the
// documented load/unload calls on /api/generate (runtime-apis.md §1).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtimes/runtime.h"

namespace memopt::runtimes {

struct OllamaInstalledModel {
  std::string name;
  uint64_t size_bytes = 0;  // on disk
  std::string digest;
  std::string family, parameter_size, quantization_level;
  std::optional<uint64_t> context_length;  // training context (v0.30+)
};

// The /api/show facts that size a KV cache (GGUF keys, §1.4 and §8).
struct OllamaModelDetails {
  std::string architecture;
  std::string model_path;  // the blob in the FROM line of the modelfile
  std::optional<uint64_t> block_count, head_count, head_count_kv, key_length, value_length,
      embedding_length, context_length, sliding_window;
  // f16 KV bytes per token from the formula of §8:
  // layers × kv_heads × (head_dim_k + head_dim_v) × 2 bytes. nullopt when a
  // key is missing or per-layer (array) head counts make it ambiguous.
  std::optional<uint64_t> kv_bytes_per_token_f16() const;
};

// Pure parsers of the documented payloads; `where` names the URL in errors.
Result<std::vector<LoadedModel>> parse_ollama_ps(std::string_view body, const std::string& where);
Result<std::vector<OllamaInstalledModel>> parse_ollama_tags(std::string_view body,
                                                            const std::string& where);
Result<OllamaModelDetails> parse_ollama_show(std::string_view body, const std::string& where);

// The request bodies for POST /api/generate (docs/api.md "Load a model",
// "Unload a model"). keep_alive: digits = seconds (a JSON number), otherwise a
// Go duration string.
std::string ollama_unload_request(const std::string& model);
std::string ollama_preload_request(const std::string& model, const PreloadOptions& options);
// True for what Ollama's api.Duration accepts: an integer (seconds) or a Go
// duration such as "30m", "1h30m", "-1", "2.5h".
bool valid_keep_alive(std::string_view text);

class OllamaClient : public RuntimeClient {
 public:
  OllamaClient(const BaseUrl& base, const HttpOptions& options)
      : RuntimeClient(HttpClient(base, options)) {}
  RuntimeKind kind() const override { return RuntimeKind::kOllama; }
  Result<RuntimeInfo> info() const override;
  Result<std::vector<LoadedModel>> loaded_models() const override;
  Status unload(const std::string& model) const override;
  Status preload(const std::string& model, const PreloadOptions& options) const override;

  Result<std::vector<OllamaInstalledModel>> installed_models() const;
  Result<OllamaModelDetails> show(const std::string& model) const;
};

}  // namespace memopt::runtimes
