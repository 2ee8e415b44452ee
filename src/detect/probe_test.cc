#include "detect/probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace memopt::detect {
namespace {

// A one-shot loopback server answering `reply` (or nothing, for timeouts).
class OneShotServer {
 public:
  explicit OneShotServer(std::string reply, bool silent = false) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::listen(fd_, 4);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, reply = std::move(reply), silent] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[2048];
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n > 0) request_.assign(buf, static_cast<size_t>(n));
      if (silent) {
        ::usleep(600 * 1000);
      } else {
        ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    });
  }
  ~OneShotServer() {
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  const std::string& request() const { return request_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::string request_;
  std::thread thread_;
};

TEST(LoopbackGet, ReadsStatusAndBody) {
  OneShotServer s("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n# HELP vllm:num_requests_running x\n");
  auto a = loopback_get("127.0.0.1", s.port(), "/metrics");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "# HELP vllm:num_requests_running x\n");
}

TEST(LoopbackGet, BoundedBody) {
  OneShotServer s("HTTP/1.0 200 OK\r\n\r\n" + std::string(100000, 'x'));
  auto a = loopback_get("127.0.0.1", s.port(), "/", std::chrono::milliseconds(1000), 1000);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->body.size(), 1000u);
}

TEST(LoopbackGet, SilentServerTimesOutQuickly) {
  OneShotServer s("", /*silent=*/true);
  auto t0 = std::chrono::steady_clock::now();
  auto a = loopback_get("127.0.0.1", s.port(), "/props", std::chrono::milliseconds(150));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_FALSE(a.ok());
  EXPECT_LT(ms.count(), 500);
}

TEST(LoopbackGet, NotHttpAndRefusedAndNonLoopback) {
  {
    OneShotServer s("SSH-2.0-OpenSSH_9.2\r\n");
    auto a = loopback_get("127.0.0.1", s.port(), "/");
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().message.find("no HTTP answer"), std::string::npos);
  }
  auto refused = loopback_get("127.0.0.1", 1, "/");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("127.0.0.1:1"), std::string::npos);
  auto remote = loopback_get("10.0.0.1", 80, "/");
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.error().message.find("loopback"), std::string::npos);
  EXPECT_FALSE(loopback_get("127.0.0.1", 80, "/x\r\nEvil: 1").ok());
}

}  // namespace
}  // namespace memopt::detect
