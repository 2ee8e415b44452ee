// TLS on Linux (daemon/tls.h): OpenSSL, TLS 1.2 or newer.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

#include "daemon/tls.h"

namespace memopt::daemon {
namespace {

std::string openssl_error() {
  const unsigned long e = ::ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ::ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

struct TlsSession::Impl {
  SSL* ssl = nullptr;
  ~Impl() {
    if (ssl) ::SSL_free(ssl);
  }
  TlsIo outcome(int r) {
    const int e = ::SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ) return TlsIo::kWantRead;
    if (e == SSL_ERROR_WANT_WRITE) return TlsIo::kWantWrite;
    ::ERR_clear_error();
    return e == SSL_ERROR_ZERO_RETURN ? TlsIo::kClosed : TlsIo::kFailed;
  }
};

TlsSession::TlsSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsSession::~TlsSession() = default;

TlsIo TlsSession::handshake() {
  const int r = ::SSL_accept(impl_->ssl);
  return r == 1 ? TlsIo::kDone : impl_->outcome(r);
}

TlsIo TlsSession::read(char* data, size_t size, size_t* got) {
  const int r = ::SSL_read(impl_->ssl, data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  if (r > 0) {
    *got = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return impl_->outcome(r);
}

TlsIo TlsSession::write(const char* data, size_t size, size_t* put) {
  const int r = ::SSL_write(impl_->ssl, data, static_cast<int>(std::min<size_t>(size, 1 << 20)));
  if (r > 0) {
    *put = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return impl_->outcome(r);
}

void TlsSession::close_notify() { ::SSL_shutdown(impl_->ssl); }

struct TlsServer::Impl {
  SSL_CTX* ctx = nullptr;
  ~Impl() {
    if (ctx) ::SSL_CTX_free(ctx);
  }
};

TlsServer::TlsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsServer::~TlsServer() = default;

Result<std::unique_ptr<TlsServer>> TlsServer::load(const std::string& cert_path,
                                                   const std::string& key_path) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = ::SSL_CTX_new(::TLS_server_method());
  SSL_CTX* ctx = impl->ctx;
  if (!ctx) return make_error("TLS: cannot create a context: " + openssl_error());
  ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (::SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    return make_error("TLS certificate " + cert_path + ": " + openssl_error() +
                      " (a PEM certificate chain is expected)");
  }
  if (::SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    return make_error("TLS key " + key_path + ": " + openssl_error() +
                      " (a PEM private key is expected)");
  }
  if (::SSL_CTX_check_private_key(ctx) != 1) {
    return make_error("TLS key " + key_path + " does not match the certificate " + cert_path);
  }
  return std::make_unique<TlsServer>(std::move(impl));
}

std::unique_ptr<TlsSession> TlsServer::wrap(net::Socket s) {
  auto impl = std::make_unique<TlsSession::Impl>();
  impl->ssl = ::SSL_new(impl_->ctx);
  if (!impl->ssl || ::SSL_set_fd(impl->ssl, s) != 1) return nullptr;
  ::SSL_set_accept_state(impl->ssl);
  return std::make_unique<TlsSession>(std::move(impl));
}

}  // namespace memopt::daemon
