// A deliberately tiny HTTP/1.0 client (no keep-alive, no redirects, no TLS):
// probes only need the status line and the first bytes of the body, and must
// never hang a scan. Every socket call is bounded by one overall deadline.
#include "detect/probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace memopt::detect {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

}  // namespace

Result<HttpAnswer> loopback_get(const std::string& host, uint16_t port, const std::string& path,
                                std::chrono::milliseconds timeout, size_t max_bytes) {
  std::string where = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                      std::to_string(port) + path;
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host == "::1") {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port);
    a6->sin6_addr = in6addr_loopback;
    len = sizeof(sockaddr_in6);
    family = AF_INET6;
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &a4->sin_addr) != 1 || (ntohl(a4->sin_addr.s_addr) >> 24) != 127) {
      return make_error("refusing to probe " + where + ": probes stay on loopback");
    }
    len = sizeof(sockaddr_in);
  }
  if (path.empty() || path[0] != '/' || path.find_first_of("\r\n ") != std::string::npos) {
    return make_error("bad probe path " + path);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error("socket() failed for " + where + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  auto deadline = Clock::now() + timeout;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    if (errno != EINPROGRESS) return make_error("cannot connect to " + where + ": " + std::strerror(errno));
    if (!wait_fd(fd, POLLOUT, deadline)) return make_error("timed out connecting to " + where);
    int err = 0;
    socklen_t el = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) return make_error("cannot connect to " + where + ": " + std::strerror(err));
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + (family == AF_INET6 ? "[::1]" : host) +
                    "\r\nUser-Agent: ruvector-memopt-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  while (sent < req.size()) {
    if (!wait_fd(fd, POLLOUT, deadline)) return make_error("timed out writing to " + where);
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return make_error("cannot write to " + where + ": " + std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  const size_t cap = max_bytes + 16 * 1024;  // body cap plus room for headers
  char buf[8192];
  while (raw.size() < cap) {
    if (!wait_fd(fd, POLLIN, deadline)) break;  // keep what arrived before the deadline
    ssize_t n = ::recv(fd, buf, std::min(sizeof(buf), cap - raw.size()), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  // Status line: "HTTP/1.x NNN ...".
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0) {
    return make_error("no HTTP answer from " + where);
  }
  HttpAnswer a;
  size_t sp = raw.find(' ');
  if (sp == std::string::npos || sp + 4 > raw.size()) return make_error("bad status line from " + where);
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (raw[i] < '0' || raw[i] > '9') return make_error("bad status line from " + where);
    a.status = a.status * 10 + (raw[i] - '0');
  }
  size_t body = raw.find("\r\n\r\n");
  if (body != std::string::npos) a.body = raw.substr(body + 4, max_bytes);
  return a;
}

}  // namespace memopt::detect
