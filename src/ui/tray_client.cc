#include "ui/tray_client.h"

#include <fmt/format.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

namespace memopt::ui {
namespace {

// A status larger than this is not one; stop reading (a hostile daemon).
constexpr size_t kMaxBody = 8u << 20;

void set_timeouts(httplib::Client& c, int timeout_ms) {
  const int ms = timeout_ms < 50 ? 50 : timeout_ms;
  c.set_connection_timeout(ms / 1000, (ms % 1000) * 1000);
  c.set_read_timeout(ms / 1000, (ms % 1000) * 1000);
  c.set_write_timeout(ms / 1000, (ms % 1000) * 1000);
}

}  // namespace

Result<nlohmann::json> tray_fetch_status(const std::string& base_url, int timeout_ms) {
  httplib::Client client(base_url);
  if (!client.is_valid())
    return make_error("not a daemon URL: '" + base_url + "' (want http://HOST:PORT)");
  set_timeouts(client, timeout_ms);
  std::string body;
  bool too_big = false;
  auto res = client.Get("/api/v1/status", httplib::Headers{}, [&](const char* data, size_t n) {
    if (body.size() + n > kMaxBody) {
      too_big = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  const std::string url = base_url + "/api/v1/status";
  if (too_big) return make_error(fmt::format("GET {}: answer larger than {} bytes", url, kMaxBody));
  if (!res) {
    return make_error(fmt::format("GET {}: {} (is `ruvector-memopt daemon` running there?)", url,
                                  httplib::to_string(res.error())));
  }
  if (res->status != 200) return make_error(fmt::format("GET {}: HTTP {}", url, res->status));
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(fmt::format("GET {}: the answer is not a JSON object", url));
  return j;
}

Result<std::string> tray_send(const std::string& base_url, const ApiRequest& r, int timeout_ms) {
  httplib::Client client(base_url);
  if (!client.is_valid())
    return make_error("not a daemon URL: '" + base_url + "' (want http://HOST:PORT)");
  set_timeouts(client, timeout_ms);
  httplib::Headers headers;
  if (!r.authorization.empty()) headers.emplace("Authorization", r.authorization);
  const std::string url = base_url + r.path;
  if (r.method != "POST") return make_error(r.method + " " + url + ": the tray only sends POST");
  auto res = client.Post(r.path, headers, r.body, "application/json");
  if (!res) return make_error(fmt::format("POST {}: {}", url, httplib::to_string(res.error())));
  if (res->status == 401) {
    return make_error(
        fmt::format("POST {}: 401 unauthorized: pass the daemon's token (--token-file)", url));
  }
  if (res->status < 200 || res->status >= 300) {
    std::string text;
    nlohmann::json j = nlohmann::json::parse(res->body.substr(0, kMaxBody), nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) {
      text = ": " + j["error"].get<std::string>().substr(0, 200);
    }
    return make_error(fmt::format("POST {}: HTTP {}{}", url, res->status, text));
  }
  return res->body.substr(0, kMaxBody);
}

}  // namespace memopt::ui
