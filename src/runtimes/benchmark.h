#pragma once
// `ai benchmark`: streaming generation requests against Ollama's native API
// or any OpenAI-compatible server, timed per chunk. Statistics are pure
// functions of the per-request samples so they are unit-tested exactly.
#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtimes/http.h"
#include "util/result.h"

namespace memopt::runtimes {

enum class BenchApi { kOllama, kOpenAI };

struct BenchTarget {
  BenchApi api = BenchApi::kOpenAI;
  std::string model;  // resolved (first served model when none was given)
};

// Which API the endpoint speaks: Ollama answers GET /api/version with only a
// version; an OpenAI-compatible server answers GET /v1/models. A dead
// endpoint fails within the connect timeout.
Result<BenchTarget> detect_bench_target(const BaseUrl& base, const HttpOptions& options,
                                        const std::string& model);

struct BenchConfig {
  int requests = 10;
  int concurrency = 1;
  int prompt_tokens = 32;  // approximate: one short word per token
  int max_tokens = 64;
};

// One request's timeline, in seconds from its send.
struct RequestSample {
  bool ok = false;
  std::string error;
  double ttft_s = 0;                  // first content chunk
  double total_s = 0;                 // last byte
  std::vector<double> token_times_s;  // arrival of each content chunk
  uint64_t tokens = 0;                // completion tokens (server's count when given)
};

// Runs one streaming request; never throws.
RequestSample run_bench_request(const HttpClient& http, const BenchTarget& target,
                                const BenchConfig& config, int index);

// The body sent for request `index` (the index varies the prompt so prompt
// caches do not turn the benchmark into a cache test).
std::string bench_request_body(const BenchTarget& target, const BenchConfig& config, int index);

struct Percentiles {
  double p50 = 0, p95 = 0, p99 = 0, mean = 0, min = 0, max = 0;
  size_t n = 0;
};
// Linear interpolation between closest ranks (numpy's default "linear"
// method): rank = q × (n − 1). Empty input gives n = 0 and zeros.
Percentiles percentiles(std::vector<double> values);

struct BenchSummary {
  int requests = 0, ok = 0, errors = 0;
  double wall_s = 0;
  uint64_t tokens = 0;
  double tokens_per_s = 0;   // all completion tokens / wall time
  Percentiles ttft_s, itl_s, e2e_s, per_request_tokens_per_s;
  std::vector<std::string> error_samples;  // first few distinct errors
};

BenchSummary summarize(const std::vector<RequestSample>& samples, double wall_s);
nlohmann::json bench_summary_json(const BenchSummary& s);

// Runs the whole benchmark with `concurrency` workers; `progress(done,total)`
// is called after each request (from worker threads, serialised).
BenchSummary run_benchmark(const BaseUrl& base, const HttpOptions& options,
                           const BenchTarget& target, const BenchConfig& config,
                           const std::function<void(int, int)>& progress);

}  // namespace memopt::runtimes
