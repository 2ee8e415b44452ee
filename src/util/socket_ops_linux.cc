// Sockets on Linux (util/socket_ops.h): the POSIX calls, errno.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/socket_ops.h"

namespace memopt::net {

SocketError last_socket_error() {
  switch (errno) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
      return SocketError::kWouldBlock;
    case EINTR:
      return SocketError::kInterrupted;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
      return SocketError::kNoResources;
    case ECONNREFUSED:
      return SocketError::kRefused;
    case EINPROGRESS:
      return SocketError::kInProgress;
    default:
      return SocketError::kOther;
  }
}

std::string last_socket_error_text() { return std::strerror(errno); }

bool sockets_ready() { return true; }

Socket open_stream_socket(int family) {
  return ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

void reuse_address(Socket listener) {
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
}

Socket accept_connection(Socket listener, sockaddr_storage* peer) {
  socklen_t len = sizeof *peer;
  return ::accept4(listener, reinterpret_cast<sockaddr*>(peer), &len,
                   SOCK_NONBLOCK | SOCK_CLOEXEC);
}

long send_some(Socket s, const char* data, size_t size) {
  return ::send(s, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
}

long recv_some(Socket s, char* data, size_t size) { return ::recv(s, data, size, 0); }

int poll_sockets(pollfd* fds, size_t count, int timeout_ms) {
  return ::poll(fds, static_cast<nfds_t>(count), timeout_ms);
}

void shutdown_socket(Socket s) { ::shutdown(s, SHUT_RDWR); }

void close_socket(Socket s) {
  if (s >= 0) ::close(s);
}

bool open_wake_pair(WakePair* out) {
  int p[2];
  if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  out->read_end = p[0];
  out->write_end = p[1];
  return true;
}

void wake(const WakePair& w) {
  if (w.write_end >= 0) {
    [[maybe_unused]] ssize_t n = ::write(w.write_end, "x", 1);
  }
}

void drain(const WakePair& w) {
  char b[64];
  while (w.read_end >= 0 && ::read(w.read_end, b, sizeof b) > 0) {
  }
}

void close_wake_pair(WakePair* w) {
  close_socket(w->read_end);
  close_socket(w->write_end);
  *w = WakePair{};
}

}  // namespace memopt::net
