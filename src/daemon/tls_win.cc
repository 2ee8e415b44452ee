// TLS in the Windows build (daemon/tls.h): none. Debian has no MinGW build
// of OpenSSL, and Schannel is not wired in yet, so a certificate cannot be
// loaded; the daemon then refuses --allow-remote and serves loopback only.
#include "daemon/tls.h"

namespace memopt::daemon {

struct TlsSession::Impl {};
TlsSession::TlsSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsSession::~TlsSession() = default;
TlsIo TlsSession::handshake() { return TlsIo::kFailed; }
TlsIo TlsSession::read(char*, size_t, size_t*) { return TlsIo::kFailed; }
TlsIo TlsSession::write(const char*, size_t, size_t*) { return TlsIo::kFailed; }
void TlsSession::close_notify() {}

struct TlsServer::Impl {};
TlsServer::TlsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsServer::~TlsServer() = default;

Result<std::unique_ptr<TlsServer>> TlsServer::load(const std::string& cert_path,
                                                   const std::string&) {
  return make_error("TLS certificate " + cert_path +
                    ": this Windows build has no TLS (no OpenSSL for MinGW); the API can "
                    "listen on loopback only");
}

std::unique_ptr<TlsSession> TlsServer::wrap(net::Socket) { return nullptr; }

}  // namespace memopt::daemon
