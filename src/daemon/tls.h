#pragma once
// TLS for the API's front door (http_front.cc), the platform seam:
// OpenSSL on Linux (tls_linux.cc). The Windows build has no TLS library
// (Debian ships no MinGW build of OpenSSL; tls_win.cc): loading a
// certificate there fails with a message saying so, and the daemon, which
// needs TLS for any address off loopback, then listens on loopback only.
#include <cstddef>
#include <memory>
#include <string>

#include "util/result.h"
#include "util/socket_ops.h"

namespace memopt::daemon {

// The outcome of one non-blocking TLS step.
enum class TlsIo { kDone, kWantRead, kWantWrite, kClosed, kFailed };

// One connection's TLS state over a non-blocking socket it does not own.
class TlsSession {
 public:
  struct Impl;
  explicit TlsSession(std::unique_ptr<Impl> impl);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsIo handshake();
  TlsIo read(char* data, size_t size, size_t* got);
  TlsIo write(const char* data, size_t size, size_t* put);
  void close_notify();  // sent, not waited for

 private:
  std::unique_ptr<Impl> impl_;
};

class TlsServer {
 public:
  struct Impl;
  // A server context with this certificate chain and key (PEM files).
  static Result<std::unique_ptr<TlsServer>> load(const std::string& cert_path,
                                                 const std::string& key_path);
  explicit TlsServer(std::unique_ptr<Impl> impl);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  // TLS over an accepted socket; null when the library cannot make one.
  std::unique_ptr<TlsSession> wrap(net::Socket s);

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace memopt::daemon
