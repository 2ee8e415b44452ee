#include "serve/upstream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace memopt::serve {
namespace {

using namespace std::chrono_literals;

// A loopback backend that answers each connection with a script: the
// handler gets the socket and the connection's number (0, 1, ...).
class ScriptedBackend {
 public:
  using Handler = std::function<void(int fd, int connection)>;
  explicit ScriptedBackend(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    accept_ = std::thread([this] {
      for (int n = 0;; ++n) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::lock_guard lock(mu_);
        conns_.emplace_back([this, c, n] {
          handler_(c, n);
          ::close(c);
        });
      }
    });
  }
  ~ScriptedBackend() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    accept_.join();
    std::lock_guard lock(mu_);
    for (auto &t : conns_) t.join();
  }
  int port() const { return port_; }
  int accepted() {
    std::lock_guard lock(mu_);
    return static_cast<int>(conns_.size());
  }

  // Reads one request (head and Content-Length body); "" when the client closed.
  static std::string read_request(int fd) {
    std::string in;
    char buf[4096];
    for (;;) {
      const size_t head = in.find("\r\n\r\n");
      if (head != std::string::npos) {
        const size_t cl = in.find("Content-Length: ");
        const size_t len = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
        if (in.size() >= head + 4 + len) return in;
      }
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return "";
      in.append(buf, static_cast<size_t>(n));
    }
  }
  static void send_all(int fd, std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }

 private:
  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::thread accept_;
  std::mutex mu_;
  std::vector<std::thread> conns_;
};

UpstreamTimeouts fast() {
  UpstreamTimeouts t;
  t.connect = 1000ms;
  t.read = 2000ms;
  t.write = 1000ms;
  return t;
}

Result<std::string> round_trip(const std::shared_ptr<UpstreamPool> &pool, const std::string &body,
                               int *status = nullptr, bool *reused = nullptr) {
  auto x = UpstreamExchange::start(pool, "POST", "/v1/chat/completions", body, fast());
  if (!x) return x.error();
  if (status) *status = (*x)->status();
  if (reused) *reused = (*x)->reused_connection();
  return (*x)->read_all();
}

// Keep-alive: answers every request on a connection until the client closes.
void keep_alive_echo(int fd, int) {
  for (;;) {
    const std::string req = ScriptedBackend::read_request(fd);
    if (req.empty()) return;
    const std::string body = req.substr(req.find("\r\n\r\n") + 4);
    ScriptedBackend::send_all(fd,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Content-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body);
  }
}

TEST(UpstreamPool, ConnectionsAreKeptAndReused) {
  ScriptedBackend b(keep_alive_echo);
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
  bool reused = true;
  int status = 0;
  auto r = round_trip(pool, R"({"n":1})", &status, &reused);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, R"({"n":1})");
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(reused);
  EXPECT_EQ(pool->idle(), 1u);
  for (int i = 2; i <= 5; ++i) {
    r = round_trip(pool, "{\"n\":" + std::to_string(i) + "}", nullptr, &reused);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "{\"n\":" + std::to_string(i) + "}");
    EXPECT_TRUE(reused);
  }
  EXPECT_EQ(pool->connects(), 1u);
  EXPECT_EQ(b.accepted(), 1);
  // Retired (the backend was evicted): nothing idle, and a connection in
  // use is closed when its exchange ends.
  auto x = UpstreamExchange::start(pool, "POST", "/x", "{}", fast());
  ASSERT_TRUE(x);
  pool->retire();
  EXPECT_TRUE((*x)->read_all());
  x->reset();
  EXPECT_EQ(pool->idle(), 0u);
}

TEST(UpstreamPool, AnIdleConnectionTheBackendClosedIsNotUsed) {
  // Answers one request per connection, then closes it without saying so
  // (as a server's keep-alive timeout does).
  ScriptedBackend b([](int fd, int) {
    ScriptedBackend::read_request(fd);
    ScriptedBackend::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
  ASSERT_TRUE(round_trip(pool, "{}"));
  EXPECT_EQ(pool->idle(), 1u);
  std::this_thread::sleep_for(100ms);  // the close arrives
  bool reused = true;
  auto r = round_trip(pool, "{}", nullptr, &reused);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "ok");
  EXPECT_FALSE(reused);
  EXPECT_EQ(pool->connects(), 2u);
}

TEST(UpstreamPool, ARequestLostOnAReusedConnectionIsSentOnceMoreOnANewOne) {
  // The first connection answers once, then reads the next request and
  // closes without an answer (the close raced the request); a new
  // connection answers.
  std::atomic<int> requests{0};
  ScriptedBackend b([&](int fd, int n) {
    if (n == 0) {
      ScriptedBackend::read_request(fd);
      ScriptedBackend::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
      if (!ScriptedBackend::read_request(fd).empty()) requests++;
      return;  // closed, no answer
    }
    ScriptedBackend::read_request(fd);
    requests++;
    ScriptedBackend::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain");
  });
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
  ASSERT_TRUE(round_trip(pool, "{}"));
  auto r = round_trip(pool, "{}");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, "again");
  EXPECT_EQ(requests.load(), 2);
  EXPECT_EQ(pool->connects(), 2u);
}

TEST(UpstreamExchange, ChunkedStreamArrivesPieceByPieceAndTheConnectionIsKept) {
  std::atomic<bool> second{false};
  ScriptedBackend b([&](int fd, int) {
    ScriptedBackend::read_request(fd);
    ScriptedBackend::send_all(fd,
                              "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n");
    ScriptedBackend::send_all(fd, "f;ext=1\r\ndata: {\"a\":1}\n\n\r\n");
    std::this_thread::sleep_for(50ms);
    ScriptedBackend::send_all(fd, "F\r\ndata: {\"a\":2}\n\n\r\n");  // upper-case hex
    std::this_thread::sleep_for(50ms);
    ScriptedBackend::send_all(fd, "E\r\ndata: [DONE]\n\n\r\n0\r\nX-Trailer: 1\r\n\r\n");
    second = !ScriptedBackend::read_request(fd).empty();
    ScriptedBackend::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  });
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
  auto x = UpstreamExchange::start(pool, "POST", "/v1/chat/completions", "{}", fast());
  ASSERT_TRUE(x) << x.error().message;
  EXPECT_EQ((*x)->status(), 200);
  EXPECT_EQ((*x)->content_type(), "text/event-stream");
  std::vector<std::string> pieces;
  std::string_view p;
  UpstreamExchange::Read r;
  while ((r = (*x)->read(p, 1000ms)) == UpstreamExchange::Read::kData) pieces.emplace_back(p);
  EXPECT_EQ(r, UpstreamExchange::Read::kEnd) << (*x)->error();
  ASSERT_EQ(pieces.size(), 3u);  // each chunk as it came, not joined
  EXPECT_EQ(pieces[0], "data: {\"a\":1}\n\n");
  EXPECT_EQ(pieces[1], "data: {\"a\":2}\n\n");
  EXPECT_EQ(pieces[2], "data: [DONE]\n\n");
  x->reset();
  EXPECT_EQ(pool->idle(), 1u);
  auto again = round_trip(pool, "{}");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, "");
  EXPECT_TRUE(second.load());
  EXPECT_EQ(pool->connects(), 1u);
}

TEST(UpstreamExchange, SilenceIsAWaitAndAbandoningClosesTheConnection) {
  std::atomic<bool> saw_close{false};
  ScriptedBackend b([&](int fd, int) {
    ScriptedBackend::read_request(fd);
    ScriptedBackend::send_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    ScriptedBackend::send_all(fd, "3\r\nabc\r\n");
    char c;
    saw_close = ::recv(fd, &c, 1, 0) == 0;  // the gateway's client went away
  });
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
  auto x = UpstreamExchange::start(pool, "POST", "/v1/chat/completions", "{}", fast());
  ASSERT_TRUE(x) << x.error().message;
  std::string_view p;
  ASSERT_EQ((*x)->read(p, 1000ms), UpstreamExchange::Read::kData);
  EXPECT_EQ(p, "abc");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ((*x)->read(p, 100ms), UpstreamExchange::Read::kWait);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  (*x)->abandon();
  x->reset();
  EXPECT_EQ(pool->idle(), 0u);
  for (int i = 0; i < 100 && !saw_close; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(saw_close.load());
}

// What a hostile or broken backend sends is an error naming the URL, never
// a crash, a hang or an allocation it asks for.
TEST(UpstreamExchange, BrokenAnswersAreErrorsNamingTheBackend) {
  struct Case {
    std::string answer;
    std::string expect;  // in the error
    bool at_start;       // the error comes from start(), not from the body
  };
  const std::vector<Case> cases = {
      {"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP answer", true},
      {"HTTP/1.1 20x OK\r\n\r\n", "not an HTTP answer", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", "bad Content-Length", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", "bad Content-Length",
       true},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(70000, 'a') + "\r\n\r\n", "larger than", true},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
       "bad chunk size", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(5000, '1'),
       "longer than 4096", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY", "not followed by CRLF",
       false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "in the middle", false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "in the middle", false},
      {"", "closed the connection without an answer", true},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.answer.substr(0, 60));
    ScriptedBackend b([&](int fd, int) {
      ScriptedBackend::read_request(fd);
      ScriptedBackend::send_all(fd, c.answer);
      ::shutdown(fd, SHUT_WR);
      char sink[256];
      while (::recv(fd, sink, sizeof sink, 0) > 0) {
      }
    });
    auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
    auto x = UpstreamExchange::start(pool, "POST", "/v1/chat/completions", "{}", fast());
    std::string error;
    if (!x) {
      error = x.error().message;
      EXPECT_TRUE(c.at_start);
    } else {
      EXPECT_FALSE(c.at_start);
      auto all = (*x)->read_all();
      ASSERT_FALSE(all);
      error = all.error().message;
      x->reset();
    }
    EXPECT_NE(
        error.find("POST http://127.0.0.1:" + std::to_string(b.port()) + "/v1/chat/completions: "),
        std::string::npos)
        << error;
    EXPECT_NE(error.find(c.expect), std::string::npos) << error;
    EXPECT_EQ(pool->idle(), 0u);
  }
}

TEST(UpstreamExchange, AnswersBeyondTheLimitOrWithoutKeepAliveAreNotPooled) {
  ScriptedBackend b([](int fd, int n) {
    ScriptedBackend::read_request(fd);
    if (n == 0) {
      ScriptedBackend::send_all(
          fd, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'));
    } else if (n == 1) {
      ScriptedBackend::send_all(fd,
                                "HTTP/1.1 503 Busy\r\nConnection: close\r\n"
                                "Content-Length: 4\r\n\r\nbusy");
    } else {
      // HTTP/1.0 without a length: the body runs to the close.
      ScriptedBackend::send_all(fd, "HTTP/1.0 200 OK\r\n\r\nto the end");
    }
  });
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", b.port());
  UpstreamTimeouts t = fast();
  t.max_body_bytes = 1000;
  auto x = UpstreamExchange::start(pool, "POST", "/", "{}", t);
  ASSERT_TRUE(x);
  auto all = (*x)->read_all();
  ASSERT_FALSE(all);
  EXPECT_NE(all.error().message.find("larger than 1000 bytes"), std::string::npos);
  x->reset();
  EXPECT_EQ(pool->idle(), 0u);
  int status = 0;
  auto busy = round_trip(pool, "{}", &status);
  ASSERT_TRUE(busy);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(*busy, "busy");
  EXPECT_EQ(pool->idle(), 0u);  // Connection: close
  auto old = round_trip(pool, "{}", &status);
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(*old, "to the end");
  EXPECT_EQ(pool->idle(), 0u);
  EXPECT_EQ(pool->connects(), 3u);
}

TEST(UpstreamPool, RefusedAndSilentBackendsAreClearErrors) {
  int port = 0;
  {
    ScriptedBackend gone([](int, int) {});
    port = gone.port();
  }
  auto pool = std::make_shared<UpstreamPool>("127.0.0.1", port);
  auto r = round_trip(pool, "{}");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("connection refused"), std::string::npos) << r.error().message;
  // A backend that takes the request and says nothing: start() asks the
  // caller whether to keep waiting, and gives up when told to.
  std::atomic<bool> release{false};
  ScriptedBackend mute([&](int fd, int) {
    ScriptedBackend::read_request(fd);
    while (!release) std::this_thread::sleep_for(10ms);
  });
  auto quiet = std::make_shared<UpstreamPool>("127.0.0.1", mute.port());
  int asked = 0;
  auto x = UpstreamExchange::start(
      quiet, "POST", "/", "{}", fast(), [&] { return ++asked < 3; }, 20ms);
  release = true;
  ASSERT_FALSE(x);
  EXPECT_EQ(asked, 3);
  EXPECT_NE(x.error().message.find("stopping"), std::string::npos) << x.error().message;
}

}  // namespace
}  // namespace memopt::serve
