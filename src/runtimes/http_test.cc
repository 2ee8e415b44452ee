#include "runtimes/http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/replay_server.h"

namespace memopt::runtimes {
namespace {

using ::testing::HasSubstr;
using memopt::testing::Canned;
using memopt::testing::ReplayServer;
using Clock = std::chrono::steady_clock;

HttpOptions fast() {
  HttpOptions o;
  o.connect_timeout = std::chrono::milliseconds(300);
  o.read_timeout = std::chrono::milliseconds(300);
  o.total_timeout = std::chrono::milliseconds(600);
  return o;
}

BaseUrl base_of(const ReplayServer& s) { return *parse_base_url(s.url(), 0); }

TEST(BaseUrl, Parses) {
  auto u = parse_base_url("http://127.0.0.1:11434/api", 0);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->str(), "http://127.0.0.1:11434");
  EXPECT_EQ(parse_base_url("localhost", 8080)->str(), "http://localhost:8080");
  EXPECT_EQ(parse_base_url("HTTPS://[::1]:8443", 0)->str(), "https://[::1]:8443");
  EXPECT_EQ(parse_base_url("::1", 80)->host, "::1");
  EXPECT_THAT(parse_base_url("ftp://x:1", 0).error().message, HasSubstr("unsupported scheme"));
  EXPECT_THAT(parse_base_url("h:99999", 0).error().message, HasSubstr("bad port"));
  EXPECT_THAT(parse_base_url("h:12ab", 0).error().message, HasSubstr("bad port"));
  EXPECT_THAT(parse_base_url("http://:80", 0).error().message, HasSubstr("no host"));
}

TEST(BaseUrl, OllamaHostFollowsOllamaRules) {
  EXPECT_EQ(parse_ollama_host("")->str(), "http://127.0.0.1:11434");
  EXPECT_EQ(parse_ollama_host("0.0.0.0")->str(), "http://127.0.0.1:11434");
  EXPECT_EQ(parse_ollama_host("0.0.0.0:9999")->str(), "http://127.0.0.1:9999");
  EXPECT_EQ(parse_ollama_host(":9999")->str(), "http://127.0.0.1:9999");
  EXPECT_EQ(parse_ollama_host("gpu-box")->str(), "http://gpu-box:11434");
  EXPECT_EQ(parse_ollama_host("http://gpu-box")->str(), "http://gpu-box:80");
  EXPECT_EQ(parse_ollama_host("https://gpu-box")->str(), "https://gpu-box:443");
  EXPECT_EQ(parse_ollama_host("http://10.0.0.2:11434/")->str(), "http://10.0.0.2:11434");
  EXPECT_FALSE(parse_ollama_host("tcp://x"));
  EXPECT_FALSE(parse_ollama_host("x:70000"));
}

TEST(Http, GetReturnsBodyAndStatus) {
  ReplayServer s;
  s.on("GET /ok", 200, "{\"a\":1}");
  s.on("GET /missing", 404, "{\"error\":\"model 'llama9' not found\"}");
  HttpClient http(base_of(s), fast());
  auto r = http.get("/ok");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"a\":1}");
  auto m = http.get("/missing");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 404);
  Error e = http_status_error("GET", http.url("/missing"), *m);
  EXPECT_EQ(e.message, "GET " + s.url() + "/missing: HTTP 404: model 'llama9' not found");
}

TEST(Http, ServerMessageShapes) {
  EXPECT_EQ(server_message("{\"error\":\"model 'x' not found\"}"), "model 'x' not found");
  EXPECT_EQ(server_message(memopt::testing::fixture("vllm-error.json")),
            "The model `llama3` does not exist.");
  EXPECT_EQ(server_message(memopt::testing::fixture("vllm-error-legacy.json")),
            "The model `llama3` does not exist.");
  EXPECT_EQ(server_message(memopt::testing::fixture("llamacpp-health-loading.json")),
            "Loading model");
  EXPECT_EQ(server_message(memopt::testing::fixture("tgi-error.json")), "Model is overloaded");
  EXPECT_EQ(server_message("{\"detail\":\"Not Found\"}"), "Not Found");
  EXPECT_EQ(server_message("Internal Server Error\nstack..."), "Internal Server Error");
  EXPECT_EQ(server_message(std::string(1000, 'x')).size(), 203u);
}

TEST(Http, ConnectionRefusedIsQuickAndNamed) {
  int port;
  {
    ReplayServer s;
    port = s.port();
  }  // closed: nothing listens there now
  HttpClient http(BaseUrl{"http", "127.0.0.1", port}, fast());
  auto t0 = Clock::now();
  auto r = http.get("/api/ps");
  ASSERT_FALSE(r);
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1000));  // refused at once, not a timeout
  EXPECT_THAT(r.error().message, HasSubstr("GET http://127.0.0.1:" + std::to_string(port) + "/api/ps"));
  EXPECT_THAT(r.error().message, HasSubstr("connection refused"));
}

TEST(Http, SlowAnswerTimesOut) {
  ReplayServer s;
  s.on("GET /slow", Canned{200, "{}", "application/json", Canned::Kind::kSlow,
                           std::chrono::milliseconds(1500)});
  HttpClient http(base_of(s), fast());
  auto t0 = Clock::now();
  auto r = http.get("/slow");
  ASSERT_FALSE(r);
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1200));
  EXPECT_THAT(r.error().message, HasSubstr("no answer within 300 ms"));
}

TEST(Http, NeverEndingBodyIsCutAtTheDeadline) {
  ReplayServer s;
  s.on("GET /metrics", Canned{200, "", "text/plain", Canned::Kind::kNeverEnds});
  HttpOptions o = fast();
  o.max_body_bytes = 1ULL << 40;  // only the deadline can stop it
  HttpClient http(base_of(s), o);
  auto t0 = Clock::now();
  auto r = http.get("/metrics");
  ASSERT_FALSE(r);
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(1500));
  EXPECT_THAT(r.error().message, HasSubstr("did not finish within 600 ms"));
}

TEST(Http, OversizedBodyIsRefused) {
  ReplayServer s;
  s.on("GET /metrics", Canned{200, "", "text/plain", Canned::Kind::kNeverEnds});
  HttpOptions o = fast();
  o.total_timeout = std::chrono::milliseconds(5000);
  o.max_body_bytes = 64 * 1024;
  HttpClient http(base_of(s), o);
  auto r = http.get("/metrics");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("larger than 65536 bytes"));
}

TEST(Http, StreamCutInTheMiddleIsAnError) {
  ReplayServer s;
  std::string body;
  for (int i = 0; i < 10; ++i) body += "{\"response\":\"x\",\"done\":false}\n";
  s.on("POST /api/generate",
       Canned{200, body, "application/x-ndjson", Canned::Kind::kCutStream});
  HttpClient http(base_of(s), fast());
  std::string got;
  auto r = http.post_stream("/api/generate", "{}", [&](std::string_view c) {
    got += c;
    return true;
  });
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("stopped in the middle"));
  EXPECT_EQ(got.size(), body.size() / 2);
}

TEST(Http, StreamDeliversChunksAndTheSinkCanStop) {
  ReplayServer s;
  std::string body;
  for (int i = 0; i < 6; ++i) body += "line" + std::to_string(i) + "\n";
  s.on("POST /s", Canned{200, body, "text/event-stream", Canned::Kind::kChunked});
  HttpClient http(base_of(s), fast());
  std::string got;
  auto r = http.post_stream("/s", "{}", [&](std::string_view c) {
    got += c;
    return true;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got, body);
  int calls = 0;
  auto stopped = http.post_stream("/s", "{}", [&](std::string_view) { return ++calls < 2; });
  ASSERT_TRUE(stopped);
  EXPECT_EQ(calls, 2);
  // The request body and content type arrived as sent.
  auto reqs = s.requests_to("POST", "/s");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].body, "{}");
}

}  // namespace
}  // namespace memopt::runtimes
