// The detector's port probe, through the one HTTP client (runtimes/http.h),
// against one-shot loopback servers.
#include "detect/workload_detector.h"

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

ProbeRequest request(uint16_t port, std::string path, std::string expect) {
  return ProbeRequest{42, "127.0.0.1", port, "vllm", std::move(path), std::move(expect)};
}

TEST(PortProbe, MatchesOnStatusAndBody) {
  OneShotServer s(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
      "# HELP vllm:num_requests_running x\n");
  EXPECT_TRUE(probe_answers(request(s.port(), "/metrics", "vllm:"), std::chrono::milliseconds(1000)));
  EXPECT_NE(s.request().find("GET /metrics HTTP/1.1"), std::string::npos) << s.request();
}

TEST(PortProbe, OtherBodyOrStatusDoesNotMatch) {
  {
    OneShotServer s("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"version\":\"0.5\"}");
    EXPECT_FALSE(probe_answers(request(s.port(), "/metrics", "vllm:"), std::chrono::milliseconds(1000)));
  }
  {
    OneShotServer s("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nvllm: not here");
    EXPECT_FALSE(probe_answers(request(s.port(), "/metrics", "vllm:"), std::chrono::milliseconds(1000)));
  }
  {
    OneShotServer s("SSH-2.0-OpenSSH_9.2\r\n");
    EXPECT_FALSE(probe_answers(request(s.port(), "/", "SSH"), std::chrono::milliseconds(1000)));
  }
}

TEST(PortProbe, SilentServerTimesOutQuickly) {
  OneShotServer s("", /*silent=*/true);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(probe_answers(request(s.port(), "/props", "x"), std::chrono::milliseconds(150)));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  EXPECT_LT(ms.count(), 500);
}

TEST(PortProbe, OnlyLoopbackAndCleanPaths) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.8.9.10"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1.example"));
  EXPECT_FALSE(is_loopback_host("localhost"));  // a name could resolve anywhere
  EXPECT_FALSE(probe_answers(request(1, "/x\r\nEvil: 1", "x"), std::chrono::milliseconds(100)));
  EXPECT_FALSE(probe_answers(request(1, "/", "x"), std::chrono::milliseconds(100)));  // refused
}

}  // namespace
}  // namespace memopt::detect
