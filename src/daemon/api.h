#pragma once
// The daemon's local HTTP API (cpp-httplib, kept out of this header):
//   GET  /api/v1/status  /api/v1/history  /api/v1/actions  /metrics
//   GET  /  /ui/<file>   the web dashboard (src/ui/web/web_assets.h)
//   POST /api/v1/unload  /api/v1/preload  /api/v1/profile  /api/v1/optimize
// POSTs need "Authorization: Bearer <token>"; every request must carry an
// allowed Host (and Origin, when present). See docs/readme/daemon.md.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/api_auth.h"
#include "util/result.h"

namespace memopt::daemon {

// What a handler answers: HTTP status and a JSON body.
struct ApiReply {
  int status = 200;
  nlohmann::json body;
};

struct ApiHandlers {
  std::function<ApiReply()> status;
  // Query parameters of the request, e.g. {"series": "...", "since": "600"}.
  std::function<ApiReply(const std::map<std::string, std::string>&)> history;
  std::function<ApiReply(const std::map<std::string, std::string>&)> actions;
  std::function<std::string()> metrics;  // Prometheus text
  // POST bodies, parsed; handlers validate their fields.
  std::function<ApiReply(const nlohmann::json&)> unload, preload, profile, optimize;
};

class ApiServer {
 public:
  ApiServer(ListenAddress listen, std::string token, ApiHandlers handlers,
            std::vector<std::string> extra_hosts = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and serves on a background thread; the error names the address.
  Status start();
  void stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace memopt::daemon
