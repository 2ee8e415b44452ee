#pragma once
// ReplayServer: an in-process HTTP server on 127.0.0.1 (ephemeral port) for
// runtime-client tests. It serves canned payloads (usually the files in
// tests/fixtures/runtimes), every failure mode a client must survive (error
// status, malformed body, a body that never ends, a slow answer, a stream cut
// in the middle), and records every request so tests can assert exactly what
// a client sent.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace memopt::testing {

inline std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MEMOPT_FIXTURES_DIR) + "/runtimes/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Recorded {
  std::string method;
  std::string path;   // without the query
  std::string query;  // "level=1" (params joined in order)
  std::string body;
  std::string authorization{};  // the Authorization header ("" none)
};

struct Canned {
  enum class Kind {
    kNormal,      // status + body
    kNeverEnds,   // 200, chunked body that keeps coming
    kSlow,        // waits `delay` before answering
    kCutStream,   // sends `body` in chunks, then drops the connection
    kChunked,     // sends `body` line by line, chunked, with `delay` between lines
  };
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  Kind kind = Kind::kNormal;
  std::chrono::milliseconds delay{0};
};

class ReplayServer {
 public:
  ReplayServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    };
    server_.Get(".*", handler);
    server_.Post(".*", handler);
    server_.Delete(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("replay server: cannot bind 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // cpp-httplib 0.11 has no wait_until_ready(); the socket is already bound,
    // so clients can connect at once; wait only for the accept loop to start.
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~ReplayServer() {
    stopping_ = true;
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Routes are "GET /api/ps"; the query string is not part of the key.
  void on(const std::string& route, Canned c) {
    std::lock_guard<std::mutex> lock(mu_);
    routes_[route] = std::move(c);
  }
  void on(const std::string& route, int status, std::string body,
          std::string content_type = "application/json") {
    on(route, Canned{status, std::move(body), std::move(content_type)});
  }
  void on_fixture(const std::string& route, const std::string& name, int status = 200) {
    bool text = name.size() > 4 && name.substr(name.size() - 4) == ".txt";
    on(route, status, fixture(name), text ? "text/plain; version=0.0.4" : "application/json");
  }
  // Called on each request before the canned answer; may change routes.
  void on_request(std::function<void(const Recorded&)> hook) {
    std::lock_guard<std::mutex> lock(mu_);
    hook_ = std::move(hook);
  }

  std::vector<Recorded> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  std::vector<Recorded> requests_to(const std::string& method, const std::string& path) const {
    std::vector<Recorded> out;
    for (const Recorded& r : requests()) {
      if (r.method == method && r.path == path) out.push_back(r);
    }
    return out;
  }

 private:
  bool sleep_interruptible(std::chrono::milliseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (stopping_) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    Recorded rec{req.method, req.path, "", req.body, req.get_header_value("Authorization")};
    for (const auto& [k, v] : req.params) {
      if (!rec.query.empty()) rec.query += "&";
      rec.query += k + "=" + v;
    }
    Canned c;
    bool found = false;
    std::function<void(const Recorded&)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      log_.push_back(rec);
      hook = hook_;
    }
    if (hook) hook(rec);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = routes_.find(req.method + " " + req.path);
      if (it != routes_.end()) {
        c = it->second;
        found = true;
      }
    }
    if (!found) {
      res.status = 404;
      res.set_content("404 page not found", "text/plain");
      return;
    }
    switch (c.kind) {
      case Canned::Kind::kNormal:
        res.status = c.status;
        res.set_content(c.body, c.content_type);
        return;
      case Canned::Kind::kSlow:
        if (!sleep_interruptible(c.delay)) return;
        res.status = c.status;
        res.set_content(c.body, c.content_type);
        return;
      case Canned::Kind::kNeverEnds:
        res.status = 200;
        res.set_chunked_content_provider(c.content_type, [this](size_t, httplib::DataSink& sink) {
          static const std::string piece(4096, ' ');
          if (stopping_ || !sink.write(piece.data(), piece.size())) return false;
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          return true;
        });
        return;
      case Canned::Kind::kCutStream:
      case Canned::Kind::kChunked: {
        res.status = c.status;
        auto lines = std::make_shared<std::vector<std::string>>();
        std::istringstream in(c.body);
        for (std::string l; std::getline(in, l);) lines->push_back(l + "\n");
        bool cut = c.kind == Canned::Kind::kCutStream;
        auto delay = c.delay;
        res.set_chunked_content_provider(
            c.content_type, [this, lines, cut, delay](size_t, httplib::DataSink& sink) {
              for (size_t i = 0; i < lines->size(); ++i) {
                if (cut && i == lines->size() / 2) return false;  // drop the connection
                if (!sink.write((*lines)[i].data(), (*lines)[i].size())) return false;
                if (delay.count() > 0 && !sleep_interruptible(delay)) return false;
              }
              sink.done();
              return true;
            });
        return;
      }
    }
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::map<std::string, Canned> routes_;
  std::vector<Recorded> log_;
  std::function<void(const Recorded&)> hook_;
};

}  // namespace memopt::testing
