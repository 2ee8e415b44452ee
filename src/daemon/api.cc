#include "daemon/api.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "ui/web/web_assets.h"

namespace memopt::daemon {
namespace {

constexpr size_t kMaxBody = 64 * 1024;

// What a POST field must be; a wrong type is the client's error (400 naming
// the field), never the library's exception text in a 500.
enum class FieldType { kString, kBool, kStringArray };

struct FieldRule {
  const char* path;
  const char* field;
  FieldType type;
};

// Every field a handler reads. Add a row with the handler's new field.
constexpr FieldRule kFieldRules[] = {
    {"/api/v1/unload", "model", FieldType::kString},
    {"/api/v1/unload", "runtime", FieldType::kString},
    {"/api/v1/preload", "model", FieldType::kString},
    {"/api/v1/preload", "runtime", FieldType::kString},
    {"/api/v1/preload", "endpoint", FieldType::kString},
    {"/api/v1/preload", "keep_alive", FieldType::kString},
    {"/api/v1/profile", "name", FieldType::kString},
    {"/api/v1/optimize", "apply", FieldType::kBool},
    {"/api/v1/optimize", "kinds", FieldType::kStringArray},
    {"/api/v1/mode", "actions", FieldType::kString},
};

const char* type_words(FieldType t) {
  switch (t) {
    case FieldType::kString:
      return "a string";
    case FieldType::kBool:
      return "true or false";
    case FieldType::kStringArray:
      return "an array of strings";
  }
  return "?";
}

bool has_type(const nlohmann::json& v, FieldType t) {
  switch (t) {
    case FieldType::kString:
      return v.is_string();
    case FieldType::kBool:
      return v.is_boolean();
    case FieldType::kStringArray:
      return v.is_array() &&
             std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return e.is_string(); });
  }
  return false;
}

ApiReply error_reply(int status, const std::string& message) {
  return {status, {{"error", message}}};
}

void send(httplib::Response& res, const ApiReply& r) {
  res.status = r.status;
  // A handler echoing a client's bytes must not make dump() throw.
  res.set_content(r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send(res, error_reply(status, message));
}

std::map<std::string, std::string> params(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : req.params) out[k] = v;
  return out;
}

// Gives process_request (protected) to the front door, which has read the
// request whole and hands it over as a stream.
class GuardedServer : public httplib::Server {
 public:
  using httplib::Server::process_request;
};

class FrontStream : public httplib::Stream {
 public:
  FrontStream(const FrontRequest& r, const FrontWriter& w) : r_(r), w_(w) {}
  using httplib::Stream::write;
  bool is_readable() const override { return pos_ < r_.bytes.size(); }
#ifdef CPPHTTPLIB_VERSION_NUM
  // cpp-httplib 0.2x and later (the Windows build's, vendored by llama.cpp):
  // more hooks; the request is whole in memory, the writer has its deadline.
  bool wait_readable() const override { return is_readable(); }
  bool wait_writable() const override { return true; }
  time_t duration() const override { return 0; }
#else
  bool is_writable() const override { return true; }
#endif
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, r_.bytes.size() - pos_);
    std::memcpy(ptr, r_.bytes.data() + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override { return w_(ptr, size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = r_.peer_ip;
    port = r_.peer_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = r_.local_ip;
    port = r_.local_port;
  }
  socket_t socket() const override { return r_.fd; }

 private:
  const FrontRequest& r_;
  const FrontWriter& w_;
  size_t pos_ = 0;
};

}  // namespace

ApiReply dispatch_post(const ApiHandlers& h, const std::string& path, const std::string& text) {
  const std::function<ApiReply(const nlohmann::json&)>* handler = nullptr;
  if (path == "/api/v1/unload") handler = &h.unload;
  if (path == "/api/v1/preload") handler = &h.preload;
  if (path == "/api/v1/profile") handler = &h.profile;
  if (path == "/api/v1/optimize") handler = &h.optimize;
  if (path == "/api/v1/mode") handler = &h.mode;
  if (handler == nullptr || !*handler)
    return error_reply(404, "no such endpoint: POST " + path.substr(0, 100));
  nlohmann::json body = nlohmann::json::object();
  if (!text.empty()) {
    body = nlohmann::json::parse(text, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return error_reply(400, "the body must be a JSON object");
  }
  for (const auto& rule : kFieldRules) {
    if (path != rule.path) continue;
    auto it = body.find(rule.field);
    if (it != body.end() && !has_type(*it, rule.type)) {
      return error_reply(400, std::string("field \"") + rule.field + "\" must be " +
                                  type_words(rule.type) + ", not " + it->type_name());
    }
  }
  return (*handler)(body);
}

struct ApiServer::Impl {
  ApiConfig cfg;
  ApiHandlers h;
  GuardedServer server;
  std::unique_ptr<HttpFront> front;
  int port = 0;
};

ApiServer::ApiServer(ApiConfig config, ApiHandlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->cfg = std::move(config);
  impl_->h = std::move(handlers);
}

ApiServer::~ApiServer() { stop(); }

std::string ApiServer::metrics_text() const {
  return impl_->front ? impl_->front->metrics_text() : "";
}

Status ApiServer::start() {
  Impl& s = *impl_;
  const ApiConfig& cfg = s.cfg;
  if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
    return make_error("TLS needs both a certificate and a key (tls_cert and tls_key in [daemon])");
  }
  const bool tls = !cfg.tls_cert.empty();
  if (cfg.allow_remote && !tls) {
    return make_error(
        "--allow-remote needs TLS, so the token does not travel in clear: set tls_cert and "
        "tls_key in [daemon] (or --tls-cert and --tls-key)");
  }
  httplib::Server& svr = s.server;
  svr.set_payload_max_length(kMaxBody);

  // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends
  // Host: evil.example. Only our own names pass, and only the ones that fit
  // the address the connection arrived on.
  svr.set_pre_routing_handler([&s, tls](const httplib::Request& req, httplib::Response& res) {
    const auto allowed = allowed_hosts_for(s.cfg.listen, req.local_addr, s.port, s.cfg.extra_hosts);
    if (!host_allowed(req.get_header_value("Host"), allowed)) {
      send_error(res, 403,
                 "Host '" + req.get_header_value("Host").substr(0, 100) + "' is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!origin_allowed(req.get_header_value("Origin"), allowed, tls ? "https" : "http")) {
      send_error(res, 403,
                 "Origin '" + req.get_header_value("Origin").substr(0, 100) + "' is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::string auth = req.get_header_value("Authorization");
    const bool acts = bearer_matches(auth, s.cfg.token);
    const bool reads = acts || bearer_matches(auth, s.cfg.read_token);
    if (req.method == "POST" && !acts) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(
          res, reads ? 403 : 401,
          reads ? "the read-only token cannot act; use the api_token file"
                : "missing or wrong bearer token (see the api_token file in the state directory)");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (s.cfg.allow_remote && !reads) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401,
                 "this daemon serves remote clients: every request needs a bearer token "
                 "(api_token_read for reading, api_token to act)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  svr.Get("/api/v1/status",
          [&s](const httplib::Request&, httplib::Response& res) { send(res, s.h.status()); });
  svr.Get("/api/v1/history", [&s](const httplib::Request& req, httplib::Response& res) {
    send(res, s.h.history(params(req)));
  });
  svr.Get("/api/v1/actions", [&s](const httplib::Request& req, httplib::Response& res) {
    send(res, s.h.actions(params(req)));
  });
  svr.Get("/api/v1/plan", [&s](const httplib::Request& req, httplib::Response& res) {
    if (!s.h.plan) return send_error(res, 404, "no such endpoint: GET /api/v1/plan");
    send(res, s.h.plan(params(req)));
  });
  svr.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(s.h.metrics() + (s.front ? s.front->metrics_text() : ""),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  // The web dashboard (src/ui/web/, embedded at build time): read-only files
  // under a policy that allows no inline script and no other origin.
  svr.Get(R"(/|/ui/[A-Za-z0-9_.-]+)", [](const httplib::Request& req, httplib::Response& res) {
    const web::WebAsset* a = web::find_web_asset(req.path);
    if (a == nullptr) {
      send_error(res, 404, "no such page: " + req.path.substr(0, 100));
      return;
    }
    res.set_header("Content-Security-Policy", std::string(web::kContentSecurityPolicy));
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string(a->body), std::string(a->content_type));
  });
  for (const char* path :
       {"/api/v1/unload", "/api/v1/preload", "/api/v1/profile", "/api/v1/optimize", "/api/v1/mode"}) {
    svr.Post(path, [&s](const httplib::Request& req, httplib::Response& res) {
      send(res, dispatch_post(s.h, req.path, req.body));
    });
  }
  svr.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        // The detail goes to the log, not to the client (it names library
        // internals and helps nobody but a prober).
        std::string what = "unknown exception";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("API {} {}: {}", req.method, req.path.substr(0, 100), what);
        send_error(res, 500, "internal error; the daemon's log has the detail");
      });

  s.front =
      std::make_unique<HttpFront>(cfg.limits, [&s](const FrontRequest& r, const FrontWriter& w) {
        FrontStream strm(r, w);
        bool closed = false;
#ifdef CPPHTTPLIB_VERSION_NUM
        s.server.process_request(strm, r.peer_ip, r.peer_port, r.local_ip, r.local_port,
                                 /*close_connection=*/true, closed, [](httplib::Request&) {});
#else
        s.server.process_request(strm, /*close_connection=*/true, closed, [](httplib::Request&) {});
#endif
      });
  if (tls) {
    if (auto st = s.front->use_tls(cfg.tls_cert, cfg.tls_key); !st) return st;
  }
  // "localhost" binds 127.0.0.1, where clients that write 127.0.0.1 look.
  const std::string host = cfg.listen.host == "localhost" ? "127.0.0.1" : cfg.listen.host;
  if (auto st = s.front->bind(host, cfg.listen.port, !cfg.allow_remote); !st) return st;
  port_ = s.port = s.front->port();
  s.front->start();
  return Ok{};
}

void ApiServer::stop() {
  if (impl_ && impl_->front) impl_->front->stop();
}

}  // namespace memopt::daemon
