#include "serve/upstream.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "util/fs_read.h"

namespace memopt::serve {

using Clock = std::chrono::steady_clock;

// One socket to the backend and what was received on it but not consumed.
// The buffer is fixed: a head larger than it is refused, a body passes
// through it piece by piece.
struct UpstreamConnection {
  static constexpr size_t kBuffer = 64 * 1024;
  int fd = -1;
  std::vector<char> buf = std::vector<char>(kBuffer);
  size_t begin = 0, end = 0;  // unconsumed bytes: buf[begin, end)
  bool eof = false;

  ~UpstreamConnection() {
    if (fd >= 0) ::close(fd);
  }
  size_t avail() const { return end - begin; }
  std::string_view view() const { return {buf.data() + begin, avail()}; }
};

namespace {

int wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  const auto ms = static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, INT32_MAX));
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  return r;
}

// Non-blocking connect within `timeout`, close-on-exec (a backend the
// gateway forks must not hold its connections), Nagle off both ways.
Result<int> connect_to(const std::string &host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return make_error("cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  std::string why = "no address";
  int fd = -1;
  for (addrinfo *a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      rc = wait_for(fd, POLLOUT, timeout) > 0 ? 0 : -1;
      if (rc != 0) {
        why = "no connection within " + std::to_string(timeout.count()) +
              " ms; check the host and port";
      } else {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          rc = -1;
          errno = err;
        }
      }
    }
    if (rc != 0) {
      if (errno == ECONNREFUSED) {
        why = "connection refused; is the runtime running and listening on that port?";
      } else if (errno != EINPROGRESS) {
        why = std::string("cannot connect: ") + std::strerror(errno);
      }
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0) return make_error(why);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool contains_token(std::string_view value, std::string_view token) {
  size_t at = 0;
  while (at <= value.size()) {
    size_t comma = value.find(',', at);
    if (comma == std::string_view::npos) comma = value.size();
    if (iequals(trim(value.substr(at, comma - at)), token)) return true;
    at = comma + 1;
  }
  return false;
}

}  // namespace

UpstreamPool::UpstreamPool(std::string host, int port, std::string bearer, size_t max_idle)
    : host_(std::move(host)), port_(port), max_idle_(max_idle), bearer_(std::move(bearer)) {}

UpstreamPool::~UpstreamPool() = default;

std::string UpstreamPool::url(std::string_view path) const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_) +
         std::string(path);
}

Result<std::unique_ptr<UpstreamConnection>> UpstreamPool::acquire(
    std::chrono::milliseconds connect_timeout, bool fresh) {
  while (!fresh) {
    std::unique_ptr<UpstreamConnection> c;
    {
      std::lock_guard lock(mu_);
      if (idle_.empty()) break;
      c = std::move(idle_.back());
      idle_.pop_back();
    }
    // An idle connection has nothing to say: readable means the backend
    // closed it (or broke the protocol), so it is dropped.
    if (wait_for(c->fd, POLLIN, std::chrono::milliseconds(0)) == 0) return c;
  }
  auto fd = connect_to(host_, port_, connect_timeout);
  if (!fd) return fd.error();
  auto c = std::make_unique<UpstreamConnection>();
  c->fd = *fd;
  std::lock_guard lock(mu_);
  connects_++;
  return c;
}

void UpstreamPool::give_back(std::unique_ptr<UpstreamConnection> c) {
  std::lock_guard lock(mu_);
  if (retired_ || idle_.size() >= max_idle_ || c->avail() > 0 || c->eof) return;
  c->begin = c->end = 0;
  idle_.push_back(std::move(c));
}

void UpstreamPool::retire() {
  std::vector<std::unique_ptr<UpstreamConnection>> closing;
  std::lock_guard lock(mu_);
  retired_ = true;
  closing.swap(idle_);
}

size_t UpstreamPool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

uint64_t UpstreamPool::connects() const {
  std::lock_guard lock(mu_);
  return connects_;
}

// ---- One exchange.

Result<std::unique_ptr<UpstreamExchange>> UpstreamExchange::start(
    std::shared_ptr<UpstreamPool> pool, std::string_view method, std::string_view path,
    std::string_view body, const UpstreamTimeouts &timeouts,
    const std::function<bool()> &keep_waiting, std::chrono::milliseconds poll) {
  const bool v6 = pool->host().find(':') != std::string::npos;
  std::string head = std::string(method) + " " + std::string(path) +
                     " HTTP/1.1\r\nHost: " + (v6 ? "[" + pool->host() + "]" : pool->host()) + ":" +
                     std::to_string(pool->port()) +
                     "\r\nUser-Agent: ruvector-memopt\r\nAccept: */*\r\n" +
                     (pool->bearer().empty() ? std::string()
                                             : "Authorization: Bearer " + pool->bearer() + "\r\n") +
                     "Content-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  const std::string where = std::string(method) + " " + pool->url(path);
  // A reused connection the backend closed just as the request went out
  // fails before any answer: the request is sent once more, on a new one.
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<UpstreamExchange> x(new UpstreamExchange());
    x->pool_ = pool;
    x->timeouts_ = timeouts;
    x->where_ = where;
    const uint64_t connects_before = pool->connects();
    auto conn = pool->acquire(timeouts.connect, /*fresh=*/attempt > 0);
    if (!conn) return make_error(where + ": " + conn.error().message);
    x->conn_ = std::move(*conn);
    x->reused_ = pool->connects() == connects_before;
    // The request: head and body in one writev, the rest as the socket takes it.
    iovec iov[2] = {{head.data(), head.size()}, {const_cast<char *>(body.data()), body.size()}};
    size_t sent = 0;
    const size_t total = head.size() + body.size();
    std::string send_error;
    while (sent < total) {
      iovec part[2];
      int n = 0;
      size_t skip = sent;
      for (const iovec &v : iov) {
        if (skip >= v.iov_len) {
          skip -= v.iov_len;
          continue;
        }
        part[n++] = {static_cast<char *>(v.iov_base) + skip, v.iov_len - skip};
        skip = 0;
      }
      msghdr msg{};
      msg.msg_iov = part;
      msg.msg_iovlen = static_cast<size_t>(n);
      const ssize_t w = ::sendmsg(x->conn_->fd, &msg, MSG_NOSIGNAL);
      if (w > 0) {
        sent += static_cast<size_t>(w);
      } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (errno == EAGAIN && wait_for(x->conn_->fd, POLLOUT, timeouts.write) <= 0) {
          send_error = "the backend took no request bytes for " +
                       std::to_string(timeouts.write.count()) + " ms";
          break;
        }
      } else {
        send_error = std::string("sending the request failed: ") + std::strerror(errno);
        break;
      }
    }
    Status st = send_error.empty() ? x->read_head(keep_waiting, poll) : make_error(send_error);
    if (st) return x;
    const bool nothing_back = x->status_ == 0 && !x->timed_out_;
    if (attempt == 0 && x->reused_ && nothing_back) continue;
    return make_error(where + ": " + st.error().message);
  }
}

UpstreamExchange::~UpstreamExchange() {
  if (conn_ && done_ && keep_alive_ && error_.empty()) pool_->give_back(std::move(conn_));
}

void UpstreamExchange::abandon() { conn_.reset(); }

bool UpstreamExchange::fill(std::chrono::milliseconds wait) {
  UpstreamConnection &c = *conn_;
  timed_out_ = false;
  if (c.begin == c.end) c.begin = c.end = 0;
  if (c.end == c.buf.size() && c.begin > 0) {
    std::memmove(c.buf.data(), c.buf.data() + c.begin, c.avail());
    c.end -= c.begin;
    c.begin = 0;
  }
  if (c.end == c.buf.size() || c.eof) return false;
  // A stream's next piece is usually not here yet: wait first, then one
  // recv (two syscalls a piece, not three).
  bool waited = false;
  if (wait.count() > 0) {
    const int r = wait_for(c.fd, POLLIN, wait);
    if (r == 0) {
      timed_out_ = true;
      return false;
    }
    if (r < 0) return false;
    waited = true;
  }
  for (;;) {
    const ssize_t n = ::recv(c.fd, c.buf.data() + c.end, c.buf.size() - c.end, 0);
    if (n > 0) {
      c.end += static_cast<size_t>(n);
      return true;
    }
    if (n == 0) {
      c.eof = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return false;
    if (!waited && wait.count() == 0) {
      timed_out_ = true;
      return false;
    }
    const int r = wait_for(c.fd, POLLIN, wait);
    if (r == 0) {
      timed_out_ = true;
      return false;
    }
    if (r < 0) return false;
  }
}

Status UpstreamExchange::read_head(const std::function<bool()> &keep_waiting,
                                   std::chrono::milliseconds poll) {
  UpstreamConnection &c = *conn_;
  const auto silent_limit = timeouts_.read;
  for (;;) {
    auto last_byte = Clock::now();
    size_t head_end;
    while ((head_end = c.view().find("\r\n\r\n")) == std::string_view::npos) {
      if (c.avail() == c.buf.size()) {
        return make_error("the answer's headers are larger than " + std::to_string(c.buf.size()) +
                          " bytes; not an HTTP backend?");
      }
      if (fill(std::min(poll, silent_limit))) {
        last_byte = Clock::now();
        continue;
      }
      if (!timed_out_) {
        return make_error(c.avail() > 0 ? "the connection closed in the middle of the headers"
                                        : "the backend closed the connection without an answer");
      }
      if (keep_waiting && !keep_waiting()) return make_error("given up (the gateway is stopping)");
      if (Clock::now() - last_byte >= silent_limit) {
        timed_out_ = true;
        return make_error("no answer within " + std::to_string(silent_limit.count()) +
                          " ms; the backend may be busy or hung");
      }
    }
    const std::string_view head = c.view().substr(0, head_end);
    c.begin += head_end + 4;
    // Status line: HTTP/1.x NNN reason
    const size_t eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    int status = 0;
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ' ||
        std::from_chars(line.data() + 9, line.data() + 12, status).ptr != line.data() + 12 ||
        status < 100 || status > 599) {
      return make_error("not an HTTP answer: '" + std::string(line.substr(0, 40)) + "'");
    }
    const bool http11 = line[7] == '1';
    bool close = !http11, has_length = false;
    chunked_ = false;
    content_type_.clear();
    uint64_t length = 0;
    std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view h = rest.substr(0, e);
      rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
      const size_t colon = h.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string_view name = h.substr(0, colon), value = trim(h.substr(colon + 1));
      if (iequals(name, "Content-Type")) {
        content_type_ = std::string(value.substr(0, 256));
      } else if (iequals(name, "Content-Length")) {
        const auto r = std::from_chars(value.data(), value.data() + value.size(), length);
        if (r.ec != std::errc() || r.ptr != value.data() + value.size()) {
          return make_error("a bad Content-Length: '" + std::string(value.substr(0, 40)) + "'");
        }
        has_length = true;
      } else if (iequals(name, "Transfer-Encoding")) {
        chunked_ = contains_token(value, "chunked");
      } else if (iequals(name, "Connection")) {
        if (contains_token(value, "close")) close = true;
        if (!http11 && contains_token(value, "keep-alive")) close = false;
      }
    }
    if (status < 200) continue;  // 100 Continue and the like: the answer follows
    status_ = status;
    keep_alive_ = !close;
    until_close_ = false;
    if (status == 204 || status == 304) {
      done_ = true;
    } else if (chunked_) {
      chunk_at_ = ChunkAt::kSize;
    } else if (has_length) {
      remaining_ = length;
      done_ = length == 0;
    } else {
      until_close_ = true;
      keep_alive_ = false;
    }
    return Ok{};
  }
}

UpstreamExchange::Read UpstreamExchange::fail(std::string message) {
  error_ = where_ + ": " + message;
  conn_.reset();
  return Read::kError;
}

bool UpstreamExchange::buffered() const {
  if (done_ || !conn_ || conn_->avail() == 0) return false;
  if (!chunked_) return true;
  if (chunk_at_ == ChunkAt::kData) return true;
  // A size line (or a chunk's end and the next size line) already here.
  return conn_->view().find("\r\n", chunk_at_ == ChunkAt::kDataEnd ? 2 : 0) !=
         std::string_view::npos;
}

UpstreamExchange::Read UpstreamExchange::read(std::string_view &out,
                                              std::chrono::milliseconds wait) {
  if (done_) return Read::kEnd;
  if (!conn_) return Read::kError;
  UpstreamConnection &c = *conn_;
  auto more = [&]() -> std::optional<Read> {
    if (fill(wait)) return std::nullopt;
    if (timed_out_) return Read::kWait;
    if (c.eof && until_close_) {
      done_ = true;
      return Read::kEnd;
    }
    if (c.avail() == c.buf.size()) return fail("a chunk header longer than the buffer");
    return fail(c.eof ? "the backend closed the connection in the middle of the answer"
                      : std::string("reading the answer failed: ") + std::strerror(errno));
  };
  for (;;) {
    if (!chunked_) {
      if (!until_close_ && remaining_ == 0) {
        done_ = true;
        return Read::kEnd;
      }
      if (c.avail() == 0) {
        if (auto r = more()) return *r;
        continue;
      }
      size_t n = c.avail();
      if (!until_close_) n = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
      out = std::string_view(c.buf.data() + c.begin, n);
      c.begin += n;
      if (!until_close_) remaining_ -= n;
      return Read::kData;
    }
    switch (chunk_at_) {
      case ChunkAt::kSize:
      case ChunkAt::kTrailer: {
        const size_t eol = c.view().find("\r\n");
        if (eol == std::string_view::npos) {
          if (c.avail() > 4096) return fail("a chunk size line longer than 4096 bytes");
          if (auto r = more()) return *r;
          continue;
        }
        std::string_view line = c.view().substr(0, eol);
        c.begin += eol + 2;
        if (chunk_at_ == ChunkAt::kTrailer) {
          if (line.empty()) {
            chunk_at_ = ChunkAt::kDone;
            done_ = true;
            return Read::kEnd;
          }
          continue;  // a trailer field: not ours to pass on
        }
        line = trim(line.substr(0, line.find(';')));
        uint64_t size = 0;
        const auto r = std::from_chars(line.data(), line.data() + line.size(), size, 16);
        if (line.empty() || line.size() > 15 || r.ec != std::errc() ||
            r.ptr != line.data() + line.size()) {
          return fail("a bad chunk size '" + std::string(line.substr(0, 20)) + "'");
        }
        if (size == 0) {
          chunk_at_ = ChunkAt::kTrailer;
        } else {
          remaining_ = size;
          chunk_at_ = ChunkAt::kData;
        }
        continue;
      }
      case ChunkAt::kData: {
        if (c.avail() == 0) {
          if (auto r = more()) return *r;
          continue;
        }
        const auto n = static_cast<size_t>(std::min<uint64_t>(c.avail(), remaining_));
        out = std::string_view(c.buf.data() + c.begin, n);
        c.begin += n;
        remaining_ -= n;
        if (remaining_ == 0) chunk_at_ = ChunkAt::kDataEnd;
        return Read::kData;
      }
      case ChunkAt::kDataEnd:
        if (c.avail() < 2) {
          if (auto r = more()) return *r;
          continue;
        }
        if (c.buf[c.begin] != '\r' || c.buf[c.begin + 1] != '\n') {
          return fail("a chunk not followed by CRLF");
        }
        c.begin += 2;
        chunk_at_ = ChunkAt::kSize;
        continue;
      case ChunkAt::kDone:
        done_ = true;
        return Read::kEnd;
    }
  }
}

Result<std::string> UpstreamExchange::read_all() {
  std::string all;
  for (;;) {
    std::string_view piece;
    switch (read(piece, timeouts_.read)) {
      case Read::kData:
        if (all.size() + piece.size() > timeouts_.max_body_bytes) {
          abandon();
          return make_error(where_ + ": the answer is larger than " +
                            std::to_string(timeouts_.max_body_bytes) + " bytes");
        }
        all.append(piece);
        break;
      case Read::kEnd:
        return all;
      case Read::kWait:
        abandon();
        return make_error(where_ + ": the answer stopped for " +
                          std::to_string(timeouts_.read.count()) + " ms in the middle");
      case Read::kError:
        return make_error(error_);
    }
  }
}

}  // namespace memopt::serve
