#include "runtimes/http.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace memopt::runtimes {
namespace {

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<int> parse_port(std::string_view s, std::string_view whole) {
  int port = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (!is_digits(s) || ec != std::errc() || p != s.data() + s.size() || port < 1 || port > 65535) {
    return make_error("bad port '" + std::string(s) + "' in '" + std::string(whole) +
                      "': expected a number from 1 to 65535");
  }
  return port;
}

// Splits "host:port", "[v6]:port", "host", "[v6]" into host and port text.
void split_host_port(std::string_view hp, std::string& host, std::string& port) {
  if (!hp.empty() && hp.front() == '[') {
    size_t close = hp.find(']');
    if (close != std::string_view::npos) {
      host = std::string(hp.substr(1, close - 1));
      if (close + 1 < hp.size() && hp[close + 1] == ':') port = std::string(hp.substr(close + 2));
      return;
    }
  }
  size_t colon = hp.rfind(':');
  // More than one colon without brackets is a bare IPv6 address.
  if (colon != std::string_view::npos && hp.find(':') == colon) {
    host = std::string(hp.substr(0, colon));
    port = std::string(hp.substr(colon + 1));
  } else {
    host = std::string(hp);
  }
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string shorten(std::string s, size_t max) {
  if (s.size() > max) s = s.substr(0, max) + "...";
  return s;
}

}  // namespace

std::string BaseUrl::str() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

bool header_token_safe(std::string_view value) {
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

Result<BaseUrl> parse_base_url(std::string_view text, int default_port) {
  std::string whole = trim(text);
  std::string_view rest = whole;
  BaseUrl url;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    url.scheme = std::string(rest.substr(0, sep));
    std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (url.scheme != "http" && url.scheme != "https") {
      return make_error("unsupported scheme '" + url.scheme + "' in '" + whole +
                        "': use http:// or https://");
    }
    rest = rest.substr(sep + 3);
  }
  rest = rest.substr(0, rest.find('/'));  // a trailing path is not part of the base
  std::string host, port;
  split_host_port(rest, host, port);
  if (host.empty()) return make_error("no host in '" + whole + "': expected e.g. http://127.0.0.1:8080");
  url.host = host;
  if (port.empty()) {
    url.port = default_port;
  } else {
    auto p = parse_port(port, whole);
    if (!p) return p.error();
    url.port = *p;
  }
  return url;
}

// Follows ollama envconfig.Host(): no scheme means http with port 11434; an
// explicit http:// or https:// without a port means 80 or 443; an empty host
// means 127.0.0.1.
Result<BaseUrl> parse_ollama_host(std::string_view value) {
  std::string s = trim(value);
  BaseUrl url;
  url.host = "127.0.0.1";
  url.port = 11434;
  std::string_view hp = s;
  if (size_t sep = hp.find("://"); sep != std::string_view::npos) {
    url.scheme = std::string(hp.substr(0, sep));
    if (url.scheme == "http") {
      url.port = 80;
    } else if (url.scheme == "https") {
      url.port = 443;
    } else {
      return make_error("OLLAMA_HOST='" + s + "': unsupported scheme '" + url.scheme + "'");
    }
    hp = hp.substr(sep + 3);
  }
  hp = hp.substr(0, hp.find('/'));
  std::string host, port;
  split_host_port(hp, host, port);
  if (!host.empty()) url.host = host;
  if (!port.empty()) {
    auto p = parse_port(port, "OLLAMA_HOST=" + s);
    if (!p) return p.error();
    url.port = *p;
  }
  // A server bound to every address is reached through loopback.
  if (url.host == "0.0.0.0") url.host = "127.0.0.1";
  if (url.host == "::") url.host = "::1";
  return url;
}


HttpClient::HttpClient(BaseUrl base, HttpOptions options)
    : base_(std::move(base)), options_(options) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Result<HttpResponse> HttpClient::get(std::string_view path, std::string_view accept) const {
  return send("GET", path, "", "", accept, nullptr);
}

Result<HttpResponse> HttpClient::post(std::string_view path, std::string_view body,
                                      std::string_view content_type) const {
  return send("POST", path, body, content_type, "application/json", nullptr);
}

Result<HttpResponse> HttpClient::post_stream(std::string_view path, std::string_view body,
                                             const ChunkSink& sink) const {
  return send("POST", path, body, "application/json", "*/*", &sink);
}

Result<HttpResponse> HttpClient::send(std::string_view method, std::string_view path,
                                      std::string_view body, std::string_view content_type,
                                      std::string_view accept, const ChunkSink* sink) const {
  using Clock = std::chrono::steady_clock;
  const std::string where = std::string(method) + " " + url(path);
  httplib::Client cli(base_.scheme + "://" +
                      (base_.host.find(':') != std::string::npos ? "[" + base_.host + "]"
                                                                 : base_.host) +
                      ":" + std::to_string(base_.port));
  cli.set_connection_timeout(options_.connect_timeout);
  cli.set_read_timeout(options_.read_timeout);
  cli.set_write_timeout(options_.read_timeout);
  cli.set_keep_alive(false);
  // Requests and stream chunks are small: do not hold them for Nagle (a
  // proxy in the path of every token).
  cli.set_tcp_nodelay(true);
  cli.set_follow_location(false);

  httplib::Request req;
  req.method = std::string(method);
  req.path = std::string(path);
  req.set_header("Accept", std::string(accept));
  req.set_header("User-Agent", "ruvector-memopt");
  if (!options_.bearer_token.empty()) {
    req.set_header("Authorization", "Bearer " + options_.bearer_token);
  }
  if (method == "POST") {
    req.body = std::string(body);
    req.set_header("Content-Type", std::string(content_type));
  }

  HttpResponse out;
  const auto deadline = Clock::now() + options_.total_timeout;
  enum class Stop { kNone, kTooLarge, kDeadline, kSink } stop = Stop::kNone;
  bool streaming_ok = false;
  req.response_handler = [&](const httplib::Response& r) {
    out.status = r.status;
    out.content_type = r.get_header_value("Content-Type");
    streaming_ok = sink != nullptr && r.status >= 200 && r.status < 300;
    return true;
  };
  uint64_t received = 0;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    received += n;
    if (streaming_ok) {
      if (!(*sink)(std::string_view(data, n))) {
        stop = Stop::kSink;
        return false;
      }
      return true;
    }
    if (received > options_.max_body_bytes) {
      stop = Stop::kTooLarge;
      return false;
    }
    if (sink == nullptr && Clock::now() > deadline) {
      stop = Stop::kDeadline;
      return false;
    }
    out.body.append(data, n);
    return true;
  };

  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  const auto started = Clock::now();
  bool sent = cli.send(req, res, err);
  const auto elapsed = Clock::now() - started;
  if (stop == Stop::kSink) return out;  // the caller chose to stop; not a failure
  if (stop == Stop::kTooLarge) {
    return make_error(where + ": response body larger than " +
                      std::to_string(options_.max_body_bytes) +
                      " bytes; this is not a runtime API answer (wrong port?)");
  }
  if (stop == Stop::kDeadline) {
    return make_error(where + ": the response did not finish within " +
                      std::to_string(options_.total_timeout.count()) +
                      " ms (server busy or hung); try again or raise --timeout");
  }
  if (!sent || err != httplib::Error::Success) {
    switch (err) {
      case httplib::Error::Connection:
        // cpp-httplib 0.11 reports a connect timeout as a plain connection
        // error, so the elapsed time tells the two apart.
        if (elapsed < options_.connect_timeout * 9 / 10) {
          return make_error(where + ": connection refused; is the runtime running and "
                                    "listening on that port?");
        }
        [[fallthrough]];
      case httplib::Error::ConnectionTimeout:
        return make_error(where + ": no connection within " +
                          std::to_string(options_.connect_timeout.count()) +
                          " ms; check the host and port");
      case httplib::Error::Read:
        if (out.status != 0) {
          return make_error(where + ": the response stopped in the middle (HTTP " +
                            std::to_string(out.status) +
                            "; connection closed or no data for " +
                            std::to_string(options_.read_timeout.count()) + " ms)");
        }
        return make_error(where + ": no answer within " +
                          std::to_string(options_.read_timeout.count()) +
                          " ms, or the connection was closed; the server may be busy or hung");
      default:
        return make_error(where + ": request failed (" + httplib::to_string(err) + ")");
    }
  }
  return out;
}

std::string server_message(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto text_of = [](const nlohmann::json& v) -> std::string {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_object() && v.contains("message") && v["message"].is_string()) {
        return v["message"].get<std::string>();
      }
      return v.is_null() ? std::string() : v.dump();
    };
    for (const char* key : {"error", "message", "detail"}) {
      if (j.contains(key)) {
        std::string m = text_of(j[key]);
        if (!m.empty()) return shorten(m, 300);
      }
    }
  }
  std::string first = trim(body.substr(0, body.find('\n')));
  return shorten(first, 200);
}

Error http_status_error(std::string_view method, const std::string& url,
                        const HttpResponse& response) {
  std::string msg = std::string(method) + " " + url + ": HTTP " + std::to_string(response.status);
  std::string server = server_message(response.body);
  if (!server.empty()) msg += ": " + server;
  return make_error(msg);
}

}  // namespace memopt::runtimes
