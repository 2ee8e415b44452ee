#pragma once
// The HTTP layer every runtime client shares: bounded timeouts and body sizes,
// and errors that name the URL and what went wrong (refused, timeout, HTTP
// status with the server's own message, malformed body).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace memopt::runtimes {

struct HttpOptions {
  // Loopback runtimes answer in milliseconds; a runtime that takes longer is
  // busy or wedged, and a monitor must not hang on it.
  std::chrono::milliseconds connect_timeout{500};
  // Longest wait for any single read (headers or the next body bytes).
  std::chrono::milliseconds read_timeout{1500};
  // Longest a whole non-streaming exchange may take (a body that trickles
  // forever is cut here). Streaming calls use only read_timeout.
  std::chrono::milliseconds total_timeout{1900};
  // Actions that load a model (Ollama preload, vLLM wake-up) take as long as
  // reading the weights; they get this instead of read/total timeouts.
  std::chrono::milliseconds load_timeout{120000};
  // vLLM /metrics pages run to hundreds of KB; 16 MiB is far above any real page.
  uint64_t max_body_bytes = 16ULL << 20;
  // Sent as "Authorization: Bearer <token>" when not empty (the gateway's api_key).
  std::string bearer_token;
};

// scheme://host:port, no path. Parsed from user input such as
// "http://127.0.0.1:11434", "127.0.0.1:8080" or "localhost".
struct BaseUrl {
  std::string scheme = "http";
  std::string host;
  int port = 0;
  std::string str() const;  // "http://127.0.0.1:11434"
};

// `default_port` is used when the text names none.
Result<BaseUrl> parse_base_url(std::string_view text, int default_port);

// Whether `value` can go in a header as one token (a bearer key): no space,
// no control character.
bool header_token_safe(std::string_view value);

// OLLAMA_HOST as Ollama itself reads it (envconfig.Host): an optional scheme,
// a host that defaults to 127.0.0.1, a port that defaults to 11434. A bind-all
// address (0.0.0.0, ::) is where a client connects to loopback.
Result<BaseUrl> parse_ollama_host(std::string_view value);

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Called with each piece of a streamed body; return false to stop reading.
using ChunkSink = std::function<bool(std::string_view chunk)>;

class HttpClient {
 public:
  HttpClient(BaseUrl base, HttpOptions options);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  const BaseUrl& base() const { return base_; }
  const HttpOptions& options() const { return options_; }
  std::string url(std::string_view path) const { return base_.str() + std::string(path); }

  // Any completed HTTP exchange is a value, whatever its status; only
  // transport failures (refused, timeout, oversized body) are errors.
  Result<HttpResponse> get(std::string_view path,
                           std::string_view accept = "application/json") const;
  Result<HttpResponse> post(std::string_view path, std::string_view body,
                            std::string_view content_type = "application/json") const;
  // A streamed POST: `sink` sees the body as it arrives. The returned response
  // carries the status and content type (and the body only when the status is
  // not 2xx, for the error message).
  Result<HttpResponse> post_stream(std::string_view path, std::string_view body,
                                   const ChunkSink& sink) const;

 private:
  Result<HttpResponse> send(std::string_view method, std::string_view path,
                            std::string_view body, std::string_view content_type,
                            std::string_view accept, const ChunkSink* sink) const;
  BaseUrl base_;
  HttpOptions options_;
};

// The server's own message from an error body: Ollama {"error":"..."},
// OpenAI-style {"error":{"message":...}}, vLLM legacy {"object":"error",
// "message":...}, FastAPI {"detail":...}, TGI {"error":...,"error_type":...};
// otherwise the body's first line, shortened.
std::string server_message(std::string_view body);

// "GET http://h:p/x: HTTP 404: model 'm' not found" for a non-2xx response.
Error http_status_error(std::string_view method, const std::string& url,
                        const HttpResponse& response);

}  // namespace memopt::runtimes
