#include "daemon/http_front.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>  // strncasecmp

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "daemon/api_auth.h"
#include "daemon/tls.h"
#include "util/socket_ops.h"

namespace memopt::daemon {
namespace {

double mono_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string ip_of(const sockaddr_storage& a, int* port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
    *port = ntohs(s6->sin6_port);
  } else {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof buf);
    *port = ntohs(s4->sin_port);
  }
  return buf;
}

// Case-insensitive search of a header's value in the header block.
bool header_value(const std::string& head, const char* name, std::string* value) {
  const size_t n = std::strlen(name);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const size_t start = pos + 2;
    const size_t end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, (end == std::string::npos ? head.size() : end) - start);
    if (line.size() > n && line[n] == ':' && ::strncasecmp(line.c_str(), name, n) == 0) {
      size_t b = n + 1;
      while (b < line.size() && (line[b] == ' ' || line[b] == '\t')) ++b;
      *value = line.substr(b);
      while (!value->empty() && (value->back() == ' ' || value->back() == '\t')) value->pop_back();
      return true;
    }
    pos = end;
  }
  return false;
}

// The scrape and health paths: answered by their own worker.
bool is_priority(const std::string& bytes) {
  for (const char* p : {"GET /metrics", "GET /healthz"}) {
    const size_t n = std::strlen(p);
    if (bytes.size() > n && bytes.compare(0, n, p) == 0 && (bytes[n] == ' ' || bytes[n] == '?'))
      return true;
  }
  return false;
}

}  // namespace

struct Conn {
  net::Socket fd = net::kNoSocket;
  std::unique_ptr<TlsSession> tls;
  bool handshaken = false;
  bool want_write = false;  // TLS asked to wait for the socket to be writable
  std::string buf;
  size_t need = 0;  // total request bytes once the header is read
  double deadline = 0;
  uint64_t seq = 0;  // accept order: the oldest is evicted first
  FrontRequest req;

  ~Conn() {
    tls.reset();
    net::close_socket(fd);
  }
};

struct HttpFront::Impl {
  FrontLimits limits;
  FrontServe serve;
  std::unique_ptr<TlsServer> tls;
  net::Socket listen_fd = net::kNoSocket;
  net::WakePair wake;
  std::atomic<bool> stopping{false};
  std::thread reader;
  std::vector<std::thread> workers;

  std::list<std::unique_ptr<Conn>> pending;  // reader thread only

  mutable std::mutex mu;  // guards the queues, per-peer counts and in-service fds
  std::condition_variable cv;
  std::deque<std::unique_ptr<Conn>> normal_q, priority_q;
  std::map<std::string, size_t> per_peer;  // unfinished + queued + served
  std::set<net::Socket> serving;
  size_t open = 0;

  std::atomic<uint64_t> served{0}, evicted{0}, refused{0}, timed_out{0}, bad_request{0},
      tls_failed{0};
  uint64_t next_seq = 0;
  double accept_paused_until = 0;  // out of file descriptors: let some close

  ~Impl() {
    net::close_socket(listen_fd);
    net::close_wake_pair(&wake);
  }

  void release(const std::string& peer) {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = per_peer.find(peer); it != per_peer.end() && --it->second == 0)
      per_peer.erase(it);
    --open;
  }

  // Best effort, never blocking: a short answer before closing.
  static void say(Conn& c, const char* status) {
    if (c.tls) return;  // no TLS record mid-handshake; the close says enough
    const std::string r =
        std::string("HTTP/1.1 ") + status + "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    [[maybe_unused]] long n = net::send_some(c.fd, r.data(), r.size());
  }

  void drop_pending(std::list<std::unique_ptr<Conn>>::iterator it) {
    const std::string peer = (*it)->req.peer_ip;
    pending.erase(it);
    release(peer);
  }

  // Makes room for a connection from `peer`; false when none can be made.
  bool admit(const std::string& peer) {
    size_t mine = 0, total = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = per_peer.find(peer);
      mine = it == per_peer.end() ? 0 : it->second;
      total = open;
    }
    if (mine < limits.max_per_client && total < limits.max_connections) return true;
    // Evict the oldest unfinished request: the peer's own when it is over its
    // share, anyone's when the total is reached. Fast clients finish within
    // milliseconds, so the oldest is the slow one.
    const bool own = mine >= limits.max_per_client;
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (!own || (*it)->req.peer_ip == peer) {
        say(**it, "503 Service Unavailable");
        drop_pending(it);
        evicted++;
        return true;
      }
    }
    return false;
  }

  void accept_all() {
    while (true) {
      sockaddr_storage peer{};
      const net::Socket fd = net::accept_connection(listen_fd, &peer);
      if (fd == net::kNoSocket) {
        // Out of descriptors, the listener stays readable: without a pause
        // this thread would spin instead of finishing the requests it holds.
        if (net::last_socket_error() == net::SocketError::kNoResources) {
          accept_paused_until = mono_now() + 0.1;
          refused++;
        }
        return;
      }
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->req.peer_ip = ip_of(peer, &c->req.peer_port);
      sockaddr_storage local{};
      socklen_t len = sizeof local;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
      c->req.local_ip = ip_of(local, &c->req.local_port);
      c->req.tls = tls != nullptr;
      c->req.fd = fd;
      c->deadline = mono_now() + limits.request_deadline_seconds;
      c->seq = next_seq++;
      if (!admit(c->req.peer_ip)) {
        say(*c, "503 Service Unavailable");
        refused++;
        continue;
      }
      if (tls) {
        c->tls = tls->wrap(fd);
        if (!c->tls) {
          tls_failed++;
          continue;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        per_peer[c->req.peer_ip]++;
        open++;
      }
      pending.push_back(std::move(c));
    }
  }

  enum class Progress { kMore, kDone, kClose };

  // Reads what the socket has; kDone when the request is whole.
  Progress read_some(Conn& c) {
    char chunk[16 * 1024];
    c.want_write = false;
    while (true) {
      long n;
      if (c.tls) {
        if (!c.handshaken) {
          switch (c.tls->handshake()) {
            case TlsIo::kDone:
              break;
            case TlsIo::kWantRead:
              return Progress::kMore;
            case TlsIo::kWantWrite:
              c.want_write = true;
              return Progress::kMore;
            default:
              tls_failed++;
              return Progress::kClose;
          }
          c.handshaken = true;
        }
        size_t got = 0;
        switch (c.tls->read(chunk, sizeof chunk, &got)) {
          case TlsIo::kDone:
            n = static_cast<long>(got);
            break;
          case TlsIo::kWantRead:
            return Progress::kMore;
          case TlsIo::kWantWrite:
            c.want_write = true;
            return Progress::kMore;
          default:
            return Progress::kClose;
        }
      } else {
        n = net::recv_some(c.fd, chunk, sizeof chunk);
        if (n < 0 && (net::last_socket_error() == net::SocketError::kWouldBlock ||
                      net::last_socket_error() == net::SocketError::kInterrupted))
          return Progress::kMore;
        if (n <= 0) return Progress::kClose;
      }
      c.buf.append(chunk, static_cast<size_t>(n));
      if (c.need == 0) {
        const size_t end = c.buf.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (c.buf.size() > limits.max_header_bytes) {
            say(c, "431 Request Header Fields Too Large");
            bad_request++;
            return Progress::kClose;
          }
          continue;
        }
        if (end > limits.max_header_bytes) {
          say(c, "431 Request Header Fields Too Large");
          bad_request++;
          return Progress::kClose;
        }
        const std::string head = c.buf.substr(0, end + 2);
        std::string v;
        if (header_value(head, "Transfer-Encoding", &v)) {
          say(c, "411 Length Required");  // bodies here are small JSON: Content-Length only
          bad_request++;
          return Progress::kClose;
        }
        size_t body = 0;
        if (header_value(head, "Content-Length", &v)) {
          if (v.empty() || v.size() > 9 ||
              !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
            say(c, "400 Bad Request");
            bad_request++;
            return Progress::kClose;
          }
          body = std::stoul(v);
          if (body > limits.max_body_bytes) {
            say(c, "413 Payload Too Large");
            bad_request++;
            return Progress::kClose;
          }
        }
        c.need = end + 4 + body;
      }
      if (c.buf.size() >= c.need) {
        c.buf.resize(c.need);  // one request per connection; the rest is not ours
        return Progress::kDone;
      }
    }
  }

  void dispatch(std::unique_ptr<Conn> c) {
    c->req.bytes = std::move(c->buf);
    std::lock_guard<std::mutex> lock(mu);
    (is_priority(c->req.bytes) ? priority_q : normal_q).push_back(std::move(c));
    cv.notify_all();
  }

  void reader_loop() {
    std::vector<pollfd> fds;
    std::vector<std::list<std::unique_ptr<Conn>>::iterator> its;
    while (!stopping.load()) {
      fds.clear();
      its.clear();
      fds.push_back({wake.read_end, POLLIN, 0});
      fds.push_back(
          {listen_fd, static_cast<short>(mono_now() < accept_paused_until ? 0 : POLLIN), 0});
      double next_deadline = mono_now() + 1;
      for (auto it = pending.begin(); it != pending.end(); ++it) {
        fds.push_back({(*it)->fd, static_cast<short>((*it)->want_write ? POLLOUT : POLLIN), 0});
        its.push_back(it);
        next_deadline = std::min(next_deadline, (*it)->deadline);
      }
      const int wait_ms = std::max(0, static_cast<int>((next_deadline - mono_now()) * 1000) + 1);
      if (net::poll_sockets(fds.data(), fds.size(), wait_ms) < 0 &&
          net::last_socket_error() != net::SocketError::kInterrupted)
        break;
      if (fds[0].revents) net::drain(wake);
      for (size_t i = 2; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        auto it = its[i - 2];
        switch (read_some(**it)) {
          case Progress::kMore:
            break;
          case Progress::kDone: {
            auto c = std::move(*it);
            pending.erase(it);
            dispatch(std::move(c));
            break;
          }
          case Progress::kClose:
            drop_pending(it);
            break;
        }
      }
      // After the reads: a new connection may evict one of those iterators.
      if (fds[1].revents) accept_all();
      const double now = mono_now();
      for (auto it = pending.begin(); it != pending.end();) {
        auto cur = it++;
        if ((*cur)->deadline <= now) {
          say(**cur, "408 Request Timeout");
          timed_out++;
          drop_pending(cur);
        }
      }
    }
    while (!pending.empty()) drop_pending(pending.begin());
  }

  // Writes all of `data` before the deadline, or gives up.
  long write_all(Conn& c, const char* data, size_t size, double deadline) {
    size_t done = 0;
    while (done < size) {
      if (stopping.load()) return -1;
      short events = POLLOUT;
      long n;
      if (c.tls) {
        size_t put = 0;
        switch (c.tls->write(data + done, size - done, &put)) {
          case TlsIo::kDone:
            n = static_cast<long>(put);
            break;
          case TlsIo::kWantRead:
            events = POLLIN;
            n = 0;
            break;
          case TlsIo::kWantWrite:
            n = 0;
            break;
          default:
            return -1;
        }
      } else {
        n = net::send_some(c.fd, data + done, size - done);
        if (n < 0) {
          const auto e = net::last_socket_error();
          if (e != net::SocketError::kWouldBlock && e != net::SocketError::kInterrupted) return -1;
          n = 0;
        }
      }
      done += static_cast<size_t>(n);
      if (n == 0) {
        const double left = deadline - mono_now();
        if (left <= 0) return -1;
        pollfd p{c.fd, events, 0};
        net::poll_sockets(&p, 1, static_cast<int>(left * 1000) + 1);
      }
    }
    return static_cast<long>(size);
  }

  void worker_loop(bool priority_only) {
    while (true) {
      std::unique_ptr<Conn> c;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] {
          return stopping.load() || !priority_q.empty() || (!priority_only && !normal_q.empty());
        });
        if (stopping.load()) return;
        auto& q = !priority_q.empty() ? priority_q : normal_q;
        c = std::move(q.front());
        q.pop_front();
        serving.insert(c->fd);
      }
      const double deadline = mono_now() + limits.write_deadline_seconds;
      bool ok = true;
      serve(c->req, [&](const char* d, size_t n) {
        const long r = ok ? write_all(*c, d, n, deadline) : -1;
        if (r < 0) ok = false;
        return r;
      });
      if (c->tls && ok) c->tls->close_notify();
      served++;
      {
        std::lock_guard<std::mutex> lock(mu);
        serving.erase(c->fd);
      }
      const std::string peer = c->req.peer_ip;
      c.reset();
      release(peer);
    }
  }
};

HttpFront::HttpFront(FrontLimits limits, FrontServe serve) : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->serve = std::move(serve);
}

HttpFront::~HttpFront() { stop(); }

Status HttpFront::use_tls(const std::string& cert_path, const std::string& key_path) {
  auto tls = TlsServer::load(cert_path, key_path);
  if (!tls) return tls.error();
  impl_->tls = std::move(*tls);
  return Ok{};
}

Status HttpFront::bind(const std::string& host, int port, bool require_loopback) {
  const std::string where = host + ":" + std::to_string(port);
  if (!net::sockets_ready()) return make_error("cannot listen on " + where + ": no sockets");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  if (int e = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res); e != 0) {
    return make_error("cannot listen on " + where + ": " + ::gai_strerror(e));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
  if (require_loopback) {
    for (addrinfo* a = res; a; a = a->ai_next) {
      int p = 0;
      sockaddr_storage ss{};
      std::memcpy(&ss, a->ai_addr, std::min<size_t>(a->ai_addrlen, sizeof ss));
      const std::string ip = ip_of(ss, &p);
      if (!is_loopback_ip(ip)) {
        return make_error(
            "--listen " + where + ": '" + host + "' resolves to " + ip +
            ", not a loopback address; the API would be reachable from other machines. "
            "Add --allow-remote (with a TLS certificate) if that is what you want");
      }
    }
  }
  const net::Socket fd = net::open_stream_socket(res->ai_family);
  if (fd == net::kNoSocket)
    return make_error("cannot listen on " + where + ": " + net::last_socket_error_text());
  net::reuse_address(fd);
  if (::bind(fd, res->ai_addr, static_cast<socklen_t>(res->ai_addrlen)) != 0 ||
      ::listen(fd, 512) != 0) {
    const std::string e = net::last_socket_error_text();
    net::close_socket(fd);
    return make_error("cannot listen on " + where + ": " + e +
                      "; choose another with --listen HOST:PORT");
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  ip_of(bound, &port_);
  impl_->listen_fd = fd;
  return Ok{};
}

void HttpFront::start() {
  Impl& s = *impl_;
  if (s.listen_fd == net::kNoSocket || s.reader.joinable()) return;
  if (!net::open_wake_pair(&s.wake)) s.wake = net::WakePair{};
  s.reader = std::thread([&s] { s.reader_loop(); });
  for (int i = 0; i < std::max(1, s.limits.workers); ++i)
    s.workers.emplace_back([&s] { s.worker_loop(false); });
  s.workers.emplace_back([&s] { s.worker_loop(true); });
}

void HttpFront::stop() {
  if (!impl_) return;
  Impl& s = *impl_;
  s.stopping = true;
  net::wake(s.wake);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    // An answer being written to a client that does not read ends now.
    for (net::Socket fd : s.serving) net::shutdown_socket(fd);
    s.cv.notify_all();
  }
  if (s.reader.joinable()) s.reader.join();
  for (auto& w : s.workers) {
    if (w.joinable()) w.join();
  }
  s.workers.clear();
  std::lock_guard<std::mutex> lock(s.mu);
  s.normal_q.clear();
  s.priority_q.clear();
}

std::string HttpFront::metrics_text() const {
  const Impl& s = *impl_;
  std::string out =
      "# HELP ruvector_api_connections_total API connections by how they ended.\n"
      "# TYPE ruvector_api_connections_total counter\n";
  const std::pair<const char*, uint64_t> rows[] = {
      {"served", s.served.load()},           {"evicted", s.evicted.load()},
      {"refused", s.refused.load()},         {"timed_out", s.timed_out.load()},
      {"bad_request", s.bad_request.load()}, {"tls_failed", s.tls_failed.load()}};
  for (const auto& [k, v] : rows) {
    out += "ruvector_api_connections_total{outcome=\"" + std::string(k) + "\"} " +
           std::to_string(v) + "\n";
  }
  size_t open = 0;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    open = s.open;
  }
  out +=
      "# HELP ruvector_api_connections_open API connections being read or answered.\n"
      "# TYPE ruvector_api_connections_open gauge\n"
      "ruvector_api_connections_open " +
      std::to_string(open) + "\n";
  return out;
}

}  // namespace memopt::daemon
