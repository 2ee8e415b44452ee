#pragma once
// The Ollama API over a server that speaks only OpenAI's (llama-server, vLLM,
// SGLang, the gateway's own `command` models): requests translated to
// /v1/chat/completions and /v1/embeddings, answers and SSE streams translated
// back to Ollama's JSON and NDJSON, one event at a time so streaming stays
// streaming. Pure: text in, text out (the time stamp is a parameter).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace memopt::serve {

// Splits an SSE byte stream into the data of its events, whatever the chunk
// boundaries ("data: {...}\n\n", CRLF or LF, multi-line data joined by \n).
// Bounded: an event larger than 16 MiB is an error.
class SseReader {
 public:
  Result<std::vector<std::string>> feed(std::string_view bytes);

 private:
  std::string buf_;
  size_t scanned_ = 0;  // bytes of buf_ already searched for an event's end
};

enum class OllamaKind { kChat, kGenerate, kEmbed };

struct TranslatedRequest {
  std::string path;  // "/v1/chat/completions"
  nlohmann::json body;
  bool stream = false;
};

// `upstream_model`: the name the backend knows the model by.
Result<TranslatedRequest> ollama_to_openai(OllamaKind kind, const nlohmann::json &request,
                                           const std::string &upstream_model);

// One OpenAI stream event (the JSON after "data: ") as an Ollama NDJSON line
// ("" when it carries no text, e.g. a usage-only event). `model` is the name
// the client asked for.
std::string openai_event_to_ollama_line(OllamaKind kind, const nlohmann::json &event,
                                        const std::string &model, const std::string &created_at);
// The closing line ("done": true) of an Ollama stream.
std::string ollama_done_line(OllamaKind kind, const std::string &model,
                             const std::string &created_at, const std::string &done_reason);
// A whole OpenAI answer as Ollama's.
Result<nlohmann::json> openai_answer_to_ollama(OllamaKind kind, std::string_view body,
                                               const std::string &model,
                                               const std::string &created_at);

}  // namespace memopt::serve
