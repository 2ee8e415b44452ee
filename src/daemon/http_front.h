#pragma once
// The API's front door: accepts connections itself and reads every request
// whole (headers and body) under one deadline, all of them on one poll()
// thread, before a worker sees it. cpp-httplib's own loop gives a connection
// a pool thread from accept on, with a per-read timeout: four clients sending
// a header line every 3 s held all four threads and /metrics went dark
// (issue 13). Here a slow client costs a buffer, not a thread; a client past
// its share loses its oldest unfinished connection; /metrics and /healthz
// have a worker of their own; one request per connection, so nothing idles
// in keep-alive and stop() returns at once. TLS (OpenSSL) is done here too,
// for the same reason: the handshake is part of the deadline (daemon/tls.h).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "util/result.h"
#include "util/socket_ops.h"

namespace memopt::daemon {

struct FrontLimits {
  double request_deadline_seconds = 5;  // from accept to the last body byte
  double write_deadline_seconds = 5;    // the answer, however slowly read
  size_t max_connections = 256;         // unfinished + being served, all clients
  size_t max_per_client = 64;           // the same for one peer address
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
  int workers = 4;  // plus one that serves only /metrics and /healthz
};

// One request, read whole, and where it came from and arrived.
struct FrontRequest {
  std::string bytes;
  std::string peer_ip;
  int peer_port = 0;
  std::string local_ip;  // the address the client connected to
  int local_port = 0;
  bool tls = false;
  net::Socket fd = net::kNoSocket;
};

// Writes (part of) the answer; -1 once the client is gone or too slow.
using FrontWriter = std::function<long(const char* data, size_t size)>;
using FrontServe = std::function<void(const FrontRequest&, const FrontWriter&)>;

class HttpFront {
 public:
  HttpFront(FrontLimits limits, FrontServe serve);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  // Serve TLS with this certificate chain and key (PEM files).
  Status use_tls(const std::string& cert_path, const std::string& key_path);
  // Resolves `host` and binds its first address. With `require_loopback`
  // every address the name resolves to must be a loopback one: the check and
  // the bind use the same resolution.
  Status bind(const std::string& host, int port, bool require_loopback);
  int port() const { return port_; }
  void start();
  // Closes unfinished connections, cuts answers in progress, joins threads.
  void stop();

  // Prometheus text: connections by outcome, open connections.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace memopt::daemon
