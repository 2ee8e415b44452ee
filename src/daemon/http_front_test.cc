#include "daemon/http_front.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <chrono>
#include <string>

#include "util/socket_ops.h"

namespace memopt::daemon {
namespace {

// Sends `request` whole and returns what the server answered before closing
// (or within 3 s). Through util/socket_ops, so it runs on both systems.
std::string exchange(int port, const std::string& request) {
  if (!net::sockets_ready()) return "no sockets";
  const net::Socket fd = net::open_stream_socket(AF_INET);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  auto left_ms = [&] {
    return static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now())
               .count()));
  };
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 &&
      net::last_socket_error() != net::SocketError::kInProgress &&
      net::last_socket_error() != net::SocketError::kWouldBlock) {
    net::close_socket(fd);
    return "connect failed";
  }
  size_t sent = 0;
  while (sent < request.size() && left_ms() > 0) {
    pollfd p{fd, POLLOUT, 0};
    net::poll_sockets(&p, 1, left_ms());
    const long n = net::send_some(fd, request.data() + sent, request.size() - sent);
    if (n > 0) sent += static_cast<size_t>(n);
    if (n < 0 && net::last_socket_error() != net::SocketError::kWouldBlock) break;
  }
  std::string out;
  char buf[4096];
  while (left_ms() > 0) {
    pollfd p{fd, POLLIN, 0};
    if (net::poll_sockets(&p, 1, left_ms()) <= 0) break;
    const long n = net::recv_some(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || net::last_socket_error() != net::SocketError::kWouldBlock) {
      break;
    }
  }
  net::close_socket(fd);
  return out;
}

class HttpFrontTest : public ::testing::Test {
 protected:
  void start(FrontLimits limits = {}) {
    front_ =
        std::make_unique<HttpFront>(limits, [this](const FrontRequest& r, const FrontWriter& w) {
          seen_ = r;
          const std::string a =
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi";
          w(a.data(), a.size());
        });
    auto st = front_->bind("127.0.0.1", 0, true);
    ASSERT_TRUE(st.ok()) << st.error().message;
    front_->start();
  }
  std::unique_ptr<HttpFront> front_;
  FrontRequest seen_;
};

TEST_F(HttpFrontTest, HandsOverTheWholeRequestAndWhereItCameFrom) {
  start();
  const std::string req =
      "POST /api/v1/optimize HTTP/1.1\r\nHost: x\r\ncontent-length: 11\r\n\r\n{\"a\":true}\n";
  EXPECT_EQ(exchange(front_->port(), req + "trailing junk"),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  EXPECT_EQ(seen_.bytes, req);  // the body by its length, nothing after
  EXPECT_EQ(seen_.peer_ip, "127.0.0.1");
  EXPECT_EQ(seen_.local_ip, "127.0.0.1");
  EXPECT_EQ(seen_.local_port, front_->port());
  EXPECT_FALSE(seen_.tls);
}

TEST_F(HttpFrontTest, OversizedAndUnboundedRequestsAreRefused) {
  FrontLimits l;
  l.max_body_bytes = 1000;
  l.max_header_bytes = 4096;
  start(l);
  EXPECT_EQ(exchange(front_->port(), "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n")
                .rfind("HTTP/1.1 413", 0),
            0u);
  EXPECT_EQ(exchange(front_->port(), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .rfind("HTTP/1.1 411", 0),
            0u);
  EXPECT_EQ(exchange(front_->port(), "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n")
                .rfind("HTTP/1.1 400", 0),
            0u);
  EXPECT_EQ(
      exchange(front_->port(), "GET / HTTP/1.1\r\nX-Pad: " + std::string(5000, 'a') + "\r\n\r\n")
          .rfind("HTTP/1.1 431", 0),
      0u);
  const std::string m = front_->metrics_text();
  EXPECT_NE(m.find("ruvector_api_connections_total{outcome=\"bad_request\"} 4\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("ruvector_api_connections_total{outcome=\"served\"} 0\n"), std::string::npos)
      << m;
}

TEST_F(HttpFrontTest, LoopbackIsCheckedOnTheAddressesItBinds) {
  HttpFront f({}, [](const FrontRequest&, const FrontWriter&) {});
  auto any = f.bind("0.0.0.0", 0, true);
  ASSERT_FALSE(any.ok());
  EXPECT_NE(any.error().message.find("resolves to 0.0.0.0, not a loopback address"),
            std::string::npos)
      << any.error().message;
  auto name = f.bind("127.0.0.1.example", 0, true);
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.error().message.find("127.0.0.1.example"), std::string::npos);
}

TEST_F(HttpFrontTest, TlsFilesAreCheckedAndNamed) {
  HttpFront f({}, [](const FrontRequest&, const FrontWriter&) {});
  auto st = f.use_tls("/nonexistent/cert.pem", "/nonexistent/key.pem");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("/nonexistent/cert.pem"), std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace memopt::daemon
