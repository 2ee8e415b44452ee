#include "daemon/http_front.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace memopt::daemon {
namespace {

// Sends `request` whole and returns what the server answered before closing.
std::string exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "connect failed";
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
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
