#pragma once
// The daemon's local HTTP API (cpp-httplib, kept out of this header):
//   GET  /api/v1/status  /api/v1/history  /api/v1/actions  /metrics  /healthz
//   GET  /api/v1/plan?model=...&ctx=...  `ai plan --json` on the daemon's snapshot
//   GET  /  /ui/<file>   the web dashboard (src/ui/web/web_assets.h)
//   POST /api/v1/unload  /api/v1/preload  /api/v1/profile  /api/v1/optimize
//        /api/v1/mode    {"actions": "paused"|"active"}: AI Mode off / on
// POSTs need "Authorization: Bearer <token>"; with allow_remote every request
// needs a token (the read-only one suffices for GETs) and TLS. Every request
// must carry a Host allowed for the address it arrived on (and Origin, when
// present). Connections go through HttpFront (daemon/http_front.h): whole-
// request deadlines, per-client caps, a worker kept for /metrics.
// See README.md, "Local API" and "API security".
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/api_auth.h"
#include "daemon/http_front.h"
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
  // GET /api/v1/plan: model, ctx, kv_type, parallel, flash_attn (read-only).
  std::function<ApiReply(const std::map<std::string, std::string>&)> plan;
  std::function<std::string()> metrics;  // Prometheus text
  // POST bodies, parsed; handlers validate their fields.
  std::function<ApiReply(const nlohmann::json&)> unload, preload, profile, optimize, mode;
};

struct ApiConfig {
  ListenAddress listen;
  std::string token;       // acts (POSTs) and reads
  std::string read_token;  // reads only: dashboards, Prometheus
  std::vector<std::string> extra_hosts;
  // Off: every address `listen` resolves to must be loopback (checked where
  // it binds). On: every request needs a token, and TLS is required.
  bool allow_remote = false;
  std::string tls_cert, tls_key;  // PEM files; both or neither
  FrontLimits limits;
};

// One POST body checked and handed to its handler, as the server does it:
// not JSON or not an object, or a known field of the wrong type, is a 400
// that names the field. `path` is e.g. "/api/v1/optimize". Exposed for the
// fuzz target (fuzz/api_json_fuzz.cc) and tests.
ApiReply dispatch_post(const ApiHandlers& handlers, const std::string& path,
                       const std::string& body);

class ApiServer {
 public:
  ApiServer(ApiConfig config, ApiHandlers handlers);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and serves on a background thread; the error names the address.
  Status start();
  // Returns at once: unfinished requests are dropped, answers cut.
  void stop();
  int port() const { return port_; }
  // ruvector_api_* counters (connections by outcome), for /metrics.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace memopt::daemon
