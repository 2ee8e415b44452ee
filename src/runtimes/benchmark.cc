#include "runtimes/benchmark.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "runtimes/json_util.h"

namespace memopt::runtimes {

using jsonu::json;
using Clock = std::chrono::steady_clock;

Result<BenchTarget> detect_bench_target(const BaseUrl& base, const HttpOptions& options,
                                        const std::string& model) {
  HttpClient http(base, options);
  auto v = http.get("/api/version");
  if (!v) return v.error();  // dead endpoint: refused / timeout, named
  BenchTarget t;
  t.model = model;
  if (v->status == 200) {
    json j = json::parse(v->body, nullptr, false);
    if (j.is_object() && j.size() == 1 && j.contains("version")) {
      t.api = BenchApi::kOllama;
      if (t.model.empty()) {
        // The first loaded model, else the first installed one.
        for (const char* path : {"/api/ps", "/api/tags"}) {
          auto r = jsonu::expect_json(http.get(path), "GET", http.url(path));
          if (!r) return r.error();
          if (const json* ms = jsonu::arr(*r, "models"); ms && !ms->empty()) {
            t.model = jsonu::str((*ms)[0], "name");
            break;
          }
        }
        if (t.model.empty()) return make_error(base.str() + ": Ollama has no model; pull one or pass --model");
      }
      return t;
    }
  }
  auto m = jsonu::expect_json(http.get("/v1/models"), "GET", http.url("/v1/models"));
  if (!m) {
    return make_error(base.str() + " speaks neither Ollama's API (/api/version) nor the OpenAI API (" +
                      m.error().message + ")");
  }
  t.api = BenchApi::kOpenAI;
  if (t.model.empty()) {
    const json* data = jsonu::arr(*m, "data");
    if (data == nullptr || data->empty() || jsonu::str((*data)[0], "id").empty()) {
      return make_error("GET " + http.url("/v1/models") + ": no model listed; pass --model");
    }
    t.model = jsonu::str((*data)[0], "id");
  }
  return t;
}

std::string bench_request_body(const BenchTarget& target, const BenchConfig& config, int index) {
  // Short common words are one token each in most vocabularies.
  static const char* kWords[] = {"the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "to"};
  std::string prompt = "Request " + std::to_string(index) + ":";
  for (int i = 0; i < config.prompt_tokens; ++i) prompt += std::string(" ") + kWords[(i + index) % 10];
  if (target.api == BenchApi::kOllama) {
    return json{{"model", target.model},
                {"prompt", prompt},
                {"stream", true},
                {"options", {{"num_predict", config.max_tokens}}}}
        .dump();
  }
  return json{{"model", target.model},
              {"messages", json::array({{{"role", "user"}, {"content", prompt}}})},
              {"stream", true},
              {"max_tokens", config.max_tokens},
              {"stream_options", {{"include_usage", true}}}}
      .dump();
}

namespace {

// Splits a stream into lines across chunk boundaries.
class LineSplitter {
 public:
  template <typename F>
  bool feed(std::string_view chunk, F&& on_line) {
    buf_.append(chunk);
    if (buf_.size() > (4u << 20)) return false;  // a "line" this long is not a token stream
    size_t start = 0;
    for (size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(buf_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!on_line(line)) return false;
    }
    buf_.erase(0, start);
    return true;
  }
  const std::string& rest() const { return buf_; }

 private:
  std::string buf_;
};

}  // namespace

RequestSample run_bench_request(const HttpClient& http, const BenchTarget& target,
                                const BenchConfig& config, int index) {
  RequestSample s;
  const std::string path = target.api == BenchApi::kOllama ? "/api/generate" : "/v1/chat/completions";
  const auto t0 = Clock::now();
  auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  LineSplitter lines;
  bool done = false;
  std::optional<uint64_t> server_tokens;
  std::string stream_error;
  auto on_line = [&](std::string_view line) -> bool {
    if (line.empty()) return true;
    std::string_view payload = line;
    if (target.api == BenchApi::kOpenAI) {
      if (line.substr(0, 5) != "data:") return true;  // SSE comments, event names
      payload = line.substr(5);
      while (!payload.empty() && payload.front() == ' ') payload.remove_prefix(1);
      if (payload == "[DONE]") {
        done = true;
        return true;
      }
    }
    json j = json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      stream_error = "malformed stream line: " + std::string(payload.substr(0, 80));
      return false;
    }
    if (j.contains("error")) {  // Ollama and OpenAI servers both report errors in-stream
      stream_error = server_message(std::string(payload));
      return false;
    }
    std::string text;
    if (target.api == BenchApi::kOllama) {
      text = jsonu::str(j, "response");
      if (jsonu::boolean(j, "done").value_or(false)) {
        done = true;
        server_tokens = jsonu::u64(j, "eval_count");
      }
    } else {
      if (const json* choices = jsonu::arr(j, "choices"); choices && !choices->empty()) {
        if (const json* delta = jsonu::obj((*choices)[0], "delta")) text = jsonu::str(*delta, "content");
      }
      if (const json* usage = jsonu::obj(j, "usage")) server_tokens = jsonu::u64(*usage, "completion_tokens");
    }
    if (!text.empty()) {
      double t = since();
      if (s.token_times_s.empty()) s.ttft_s = t;
      s.token_times_s.push_back(t);
    }
    return true;
  };
  auto r = http.post_stream(path, bench_request_body(target, config, index),
                            [&](std::string_view chunk) { return lines.feed(chunk, on_line); });
  s.total_s = since();
  if (!stream_error.empty()) {
    s.error = "POST " + http.url(path) + ": " + stream_error;
    return s;
  }
  if (!r) {
    s.error = r.error().message;
    return s;
  }
  if (r->status < 200 || r->status >= 300) {
    s.error = http_status_error("POST", http.url(path), *r).message;
    return s;
  }
  if (!lines.rest().empty()) on_line(lines.rest());
  if (!done) {
    s.error = "POST " + http.url(path) + ": the stream ended before its final message";
    return s;
  }
  if (s.token_times_s.empty()) {
    s.error = "POST " + http.url(path) + ": the stream carried no tokens";
    return s;
  }
  s.tokens = server_tokens.value_or(s.token_times_s.size());
  s.ok = true;
  return s;
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    double rank = q * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(rank));
    size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
  };
  p.p50 = at(0.50);
  p.p95 = at(0.95);
  p.p99 = at(0.99);
  p.min = v.front();
  p.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  return p;
}

BenchSummary summarize(const std::vector<RequestSample>& samples, double wall_s) {
  BenchSummary s;
  s.requests = static_cast<int>(samples.size());
  s.wall_s = wall_s;
  std::vector<double> ttft, itl, e2e, rate;
  for (const RequestSample& r : samples) {
    if (!r.ok) {
      ++s.errors;
      if (s.error_samples.size() < 5 &&
          std::find(s.error_samples.begin(), s.error_samples.end(), r.error) == s.error_samples.end()) {
        s.error_samples.push_back(r.error);
      }
      continue;
    }
    ++s.ok;
    s.tokens += r.tokens;
    ttft.push_back(r.ttft_s);
    e2e.push_back(r.total_s);
    for (size_t i = 1; i < r.token_times_s.size(); ++i) {
      itl.push_back(r.token_times_s[i] - r.token_times_s[i - 1]);
    }
    // Decode rate after the first token: (chunks − 1) / (last − first).
    if (r.token_times_s.size() >= 2) {
      double span = r.token_times_s.back() - r.token_times_s.front();
      if (span > 0) rate.push_back(static_cast<double>(r.token_times_s.size() - 1) / span);
    }
  }
  s.tokens_per_s = wall_s > 0 ? static_cast<double>(s.tokens) / wall_s : 0;
  s.ttft_s = percentiles(ttft);
  s.itl_s = percentiles(itl);
  s.e2e_s = percentiles(e2e);
  s.per_request_tokens_per_s = percentiles(rate);
  return s;
}

nlohmann::json bench_summary_json(const BenchSummary& s) {
  auto pj = [](const Percentiles& p) {
    return json{{"n", p.n}, {"p50", p.p50}, {"p95", p.p95}, {"p99", p.p99},
                {"mean", p.mean}, {"min", p.min}, {"max", p.max}};
  };
  return json{{"requests", s.requests},
              {"ok", s.ok},
              {"errors", s.errors},
              {"wall_s", s.wall_s},
              {"completion_tokens", s.tokens},
              {"tokens_per_s", s.tokens_per_s},
              {"ttft_s", pj(s.ttft_s)},
              {"inter_token_latency_s", pj(s.itl_s)},
              {"e2e_s", pj(s.e2e_s)},
              {"per_request_tokens_per_s", pj(s.per_request_tokens_per_s)},
              {"error_samples", s.error_samples}};
}

BenchSummary run_benchmark(const BaseUrl& base, const HttpOptions& options,
                           const BenchTarget& target, const BenchConfig& config,
                           const std::function<void(int, int)>& progress) {
  std::vector<RequestSample> samples(static_cast<size_t>(std::max(0, config.requests)));
  std::atomic<int> next{0};
  std::mutex mu;
  int done = 0;
  const auto t0 = Clock::now();
  auto worker = [&] {
    HttpClient http(base, options);
    for (int i; (i = next.fetch_add(1)) < config.requests;) {
      samples[static_cast<size_t>(i)] = run_bench_request(http, target, config, i);
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      if (progress) progress(done, config.requests);
    }
  };
  std::vector<std::thread> threads;
  int n = std::clamp(config.concurrency, 1, std::max(1, config.requests));
  for (int i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return summarize(samples, wall);
}

}  // namespace memopt::runtimes
