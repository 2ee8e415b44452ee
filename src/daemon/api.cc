#include "daemon/api.h"

#include <httplib.h>

#include <thread>

#include "ui/web/web_assets.h"

namespace memopt::daemon {

struct ApiServer::Impl {
  ListenAddress listen;
  std::string token;
  ApiHandlers h;
  std::vector<std::string> extra_hosts;
  std::vector<std::string> allowed;
  httplib::Server server;
  std::thread thread;
};

namespace {

constexpr size_t kMaxBody = 64 * 1024;

void send(httplib::Response& res, const ApiReply& r) {
  res.status = r.status;
  res.set_content(r.body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send(res, {status, {{"error", message}}});
}

std::map<std::string, std::string> params(const httplib::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : req.params) out[k] = v;
  return out;
}

}  // namespace

ApiServer::ApiServer(ListenAddress listen, std::string token, ApiHandlers handlers,
                     std::vector<std::string> extra_hosts)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->token = std::move(token);
  impl_->h = std::move(handlers);
  impl_->extra_hosts = std::move(extra_hosts);
}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  Impl& s = *impl_;
  httplib::Server& svr = s.server;
  svr.set_payload_max_length(kMaxBody);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.set_keep_alive_max_count(20);
  // A small pool: this is a local API for one user, Prometheus and a page.
  svr.new_task_queue = [] { return new httplib::ThreadPool(4); };

  // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends
  // Host: evil.example. Only our own names pass.
  svr.set_pre_routing_handler([&s](const httplib::Request& req, httplib::Response& res) {
    if (!host_allowed(req.get_header_value("Host"), s.allowed)) {
      send_error(res, 403, "Host '" + req.get_header_value("Host").substr(0, 100) + "' is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!origin_allowed(req.get_header_value("Origin"), s.allowed)) {
      send_error(res, 403, "Origin '" + req.get_header_value("Origin").substr(0, 100) + "' is not allowed");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST" && !bearer_matches(req.get_header_value("Authorization"), s.token)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "missing or wrong bearer token (see the api_token file in the state directory)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  svr.Get("/api/v1/status", [&s](const httplib::Request&, httplib::Response& res) { send(res, s.h.status()); });
  svr.Get("/api/v1/history",
          [&s](const httplib::Request& req, httplib::Response& res) { send(res, s.h.history(params(req))); });
  svr.Get("/api/v1/actions",
          [&s](const httplib::Request& req, httplib::Response& res) { send(res, s.h.actions(params(req))); });
  svr.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(s.h.metrics(), "text/plain; version=0.0.4; charset=utf-8");
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
  auto post = [&svr](const char* path, std::function<ApiReply(const nlohmann::json&)>* handler) {
    svr.Post(path, [handler](const httplib::Request& req, httplib::Response& res) {
      nlohmann::json body = nlohmann::json::object();
      if (!req.body.empty()) {
        body = nlohmann::json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) {
          send_error(res, 400, "the body must be a JSON object");
          return;
        }
      }
      send(res, (*handler)(body));
    });
  };
  post("/api/v1/unload", &s.h.unload);
  post("/api/v1/preload", &s.h.preload);
  post("/api/v1/profile", &s.h.profile);
  post("/api/v1/optimize", &s.h.optimize);
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, 500, what);
  });

  const std::string host = s.listen.host == "localhost" ? "127.0.0.1" : s.listen.host;
  if (s.listen.port == 0) {
    port_ = svr.bind_to_any_port(host);
  } else {
    port_ = svr.bind_to_port(host, s.listen.port) ? s.listen.port : -1;
  }
  if (port_ <= 0) {
    return make_error("cannot listen on " + s.listen.host + ":" + std::to_string(s.listen.port) +
                      " (address in use or not local); choose another with --listen HOST:PORT");
  }
  s.allowed = allowed_hosts(s.listen, port_, s.extra_hosts);
  s.thread = std::thread([&svr] { svr.listen_after_bind(); });
  return Ok{};
}

void ApiServer::stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace memopt::daemon
