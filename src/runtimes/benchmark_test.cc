#include "runtimes/benchmark.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/replay_server.h"

namespace memopt::runtimes {
namespace {

using ::testing::HasSubstr;
using memopt::testing::Canned;
using memopt::testing::fixture;
using memopt::testing::ReplayServer;

HttpOptions fast() {
  HttpOptions o;
  o.connect_timeout = std::chrono::milliseconds(300);
  o.read_timeout = std::chrono::milliseconds(500);
  o.total_timeout = std::chrono::milliseconds(1000);
  return o;
}
BaseUrl base_of(const ReplayServer& s) { return *parse_base_url(s.url(), 0); }

TEST(BenchStats, PercentilesInterpolateLinearly) {
  Percentiles p = percentiles({4, 1, 3, 2, 5});
  EXPECT_EQ(p.n, 5u);
  EXPECT_DOUBLE_EQ(p.p50, 3);
  EXPECT_DOUBLE_EQ(p.p95, 4.8);  // rank 0.95 × 4 = 3.8 → 4 + 0.8 × (5 − 4)
  EXPECT_DOUBLE_EQ(p.p99, 4.96);
  EXPECT_DOUBLE_EQ(p.mean, 3);
  EXPECT_EQ(percentiles({}).n, 0u);
  EXPECT_DOUBLE_EQ(percentiles({7}).p99, 7);
  EXPECT_EQ(percentiles({1, NAN, 3}).n, 2u);
}

TEST(BenchStats, Summary) {
  RequestSample a{true, "", 0.1, 0.5, {0.1, 0.2, 0.4}, 3};
  RequestSample b{true, "", 0.3, 0.6, {0.3, 0.5}, 2};
  RequestSample bad{false, "boom", 0, 0.01, {}, 0};
  BenchSummary s = summarize({a, b, bad, bad}, 2.0);
  EXPECT_EQ(s.ok, 2);
  EXPECT_EQ(s.errors, 2);
  EXPECT_EQ(s.tokens, 5u);
  EXPECT_DOUBLE_EQ(s.tokens_per_s, 2.5);
  EXPECT_DOUBLE_EQ(s.ttft_s.p50, 0.2);
  EXPECT_EQ(s.itl_s.n, 3u);  // 0.1, 0.2, 0.2
  EXPECT_NEAR(s.itl_s.mean, 0.5 / 3, 1e-12);
  // Decode rates: 2 / 0.3 and 1 / 0.2.
  EXPECT_NEAR(s.per_request_tokens_per_s.max, 6.666666666666667, 1e-9);
  EXPECT_EQ(s.error_samples, std::vector<std::string>{"boom"});
}

std::string sse(const std::vector<std::string>& contents, bool done = true, int usage = -1) {
  std::string out;
  for (const std::string& c : contents) {
    out += "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + c + "\"}}]}\n\n";
  }
  if (usage >= 0) out += "data: {\"choices\":[],\"usage\":{\"completion_tokens\":" + std::to_string(usage) + "}}\n\n";
  if (done) out += "data: [DONE]\n\n";
  return out;
}

TEST(Bench, OpenAIStreamAgainstReplay) {
  ReplayServer s;
  s.on("GET /v1/models", 200, R"({"object":"list","data":[{"id":"m1","object":"model"}]})");
  s.on("POST /v1/chat/completions",
       Canned{200, sse({"Hel", "lo", " there"}, true, 3), "text/event-stream", Canned::Kind::kChunked,
              std::chrono::milliseconds(5)});
  auto t = detect_bench_target(base_of(s), fast(), "");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->api, BenchApi::kOpenAI);
  EXPECT_EQ(t->model, "m1");
  BenchConfig cfg;
  cfg.requests = 4;
  cfg.concurrency = 2;
  cfg.max_tokens = 3;
  cfg.prompt_tokens = 5;
  int last_done = 0;
  BenchSummary sum = run_benchmark(base_of(s), fast(), *t, cfg, [&](int d, int n) {
    EXPECT_EQ(n, 4);
    last_done = d;
  });
  EXPECT_EQ(last_done, 4);
  EXPECT_EQ(sum.ok, 4) << (sum.error_samples.empty() ? "" : sum.error_samples[0]);
  EXPECT_EQ(sum.tokens, 12u);
  EXPECT_EQ(sum.itl_s.n, 8u);
  EXPECT_GT(sum.ttft_s.p50, 0.0);
  // What was sent: streaming chat with max_tokens and a prompt of ~5 words.
  auto reqs = s.requests_to("POST", "/v1/chat/completions");
  ASSERT_EQ(reqs.size(), 4u);
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["model"], "m1");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["max_tokens"], 3);
}

TEST(Bench, OllamaStreamWithMidStreamError) {
  ReplayServer s;
  s.on_fixture("GET /api/version", "ollama-version.json");
  s.on("POST /api/generate",
       Canned{200, fixture("ollama-stream-error.ndjson"), "application/x-ndjson", Canned::Kind::kChunked});
  auto t = detect_bench_target(base_of(s), fast(), "gemma4");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->api, BenchApi::kOllama);
  HttpClient http(base_of(s), fast());
  RequestSample r = run_bench_request(http, *t, BenchConfig{}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("an error was encountered while running the model"));
  auto body = nlohmann::json::parse(s.requests_to("POST", "/api/generate")[0].body);
  EXPECT_EQ(body["options"]["num_predict"], 64);
  EXPECT_EQ(body["stream"], true);
}

TEST(Bench, OllamaStreamCompletes) {
  ReplayServer s;
  s.on_fixture("GET /api/version", "ollama-version.json");
  s.on("POST /api/generate",
       Canned{200,
              "{\"model\":\"m\",\"response\":\"a\",\"done\":false}\n"
              "{\"model\":\"m\",\"response\":\"b\",\"done\":false}\n"
              "{\"model\":\"m\",\"response\":\"\",\"done\":true,\"eval_count\":2}\n",
              "application/x-ndjson", Canned::Kind::kChunked});
  BenchTarget t{BenchApi::kOllama, "m"};
  HttpClient http(base_of(s), fast());
  RequestSample r = run_bench_request(http, t, BenchConfig{}, 0);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.tokens, 2u);
  EXPECT_EQ(r.token_times_s.size(), 2u);
}

TEST(Bench, StreamCutInTheMiddle) {
  ReplayServer s;
  std::vector<std::string> many(20, "x");
  s.on("POST /v1/chat/completions", Canned{200, sse(many), "text/event-stream", Canned::Kind::kCutStream});
  HttpClient http(base_of(s), fast());
  RequestSample r = run_bench_request(http, BenchTarget{BenchApi::kOpenAI, "m"}, BenchConfig{}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("stopped in the middle"));
}

TEST(Bench, StreamEndingWithoutDoneIsAnError) {
  ReplayServer s;
  s.on("POST /v1/chat/completions", Canned{200, sse({"a", "b"}, false), "text/event-stream", Canned::Kind::kChunked});
  HttpClient http(base_of(s), fast());
  RequestSample r = run_bench_request(http, BenchTarget{BenchApi::kOpenAI, "m"}, BenchConfig{}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("ended before its final message"));
}

TEST(Bench, ServerErrorStatusCarriesItsMessage) {
  ReplayServer s;
  s.on("POST /v1/chat/completions", 404, fixture("vllm-error.json"));
  HttpClient http(base_of(s), fast());
  RequestSample r = run_bench_request(http, BenchTarget{BenchApi::kOpenAI, "llama3"}, BenchConfig{}, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.error, HasSubstr("HTTP 404: The model `llama3` does not exist."));
}

TEST(Bench, DeadEndpointFailsWithinTheConnectTimeout) {
  int port;
  {
    ReplayServer gone;
    port = gone.port();
  }
  auto t0 = std::chrono::steady_clock::now();
  auto t = detect_bench_target(BaseUrl{"http", "127.0.0.1", port}, fast(), "");
  ASSERT_FALSE(t);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1000));
  EXPECT_THAT(t.error().message, HasSubstr("connection refused"));
}

TEST(Bench, NeitherApi) {
  ReplayServer s;
  auto t = detect_bench_target(base_of(s), fast(), "");
  ASSERT_FALSE(t);
  EXPECT_THAT(t.error().message, HasSubstr("speaks neither Ollama's API"));
}

}  // namespace
}  // namespace memopt::runtimes
