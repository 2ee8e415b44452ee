// `ai benchmark`: streaming throughput and latency of a local inference
// server (Ollama's API or any OpenAI-compatible server, detected).
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/runtime_endpoints.h"
#include "runtimes/benchmark.h"

namespace memopt::cli {
namespace {

using namespace memopt::runtimes;

struct BenchOptions {
  EndpointOptions endpoints;  // --endpoint picks the server; others for discovery
  std::string model;
  BenchConfig config;
  int stream_timeout_ms = 60000;
};

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", s * 1000);
  return buf;
}

int run_bench(CliContext& ctx, const BenchOptions& o) {
  if (o.endpoints.endpoints.size() > 1) {
    return usage_error(ctx, "ai benchmark takes one --endpoint");
  }
  std::string url;
  if (!o.endpoints.endpoints.empty()) {
    url = o.endpoints.endpoints[0];
  } else {
    // Offer what answers: the runtimes found running and on default ports.
    auto rt = connect_runtimes(o.endpoints, ctx.opts.proc_root);
    if (!rt) return fail(ctx, rt.error().message);
    std::string found;
    for (const RuntimeInfo& i : rt->infos) found += "\n  " + std::string(runtime_name(i.kind)) + "  " + i.base_url;
    if (rt->infos.size() == 1) {
      url = rt->infos[0].base_url;
    } else if (rt->infos.empty()) {
      return fail(ctx, "no inference server found on the default ports; pass --endpoint URL");
    } else {
      return usage_error(ctx, "several servers answer; choose one with --endpoint:" + found);
    }
  }
  auto base = parse_base_url(url, 80);
  if (!base) {
    return usage_error(ctx, "--endpoint: " + base.error().message);
  }
  HttpOptions http = http_options(o.endpoints);
  auto target = detect_bench_target(*base, http, o.model);
  if (!target) return fail(ctx, target.error().message);
  // Generation may pause longer than a status poll between tokens (prompt
  // processing on a slow CPU); the connect timeout stays short.
  HttpOptions stream = http;
  stream.read_timeout = std::chrono::milliseconds(o.stream_timeout_ms);
  stream.total_timeout = stream.read_timeout;

  const bool tty = !ctx.opts.json && isatty(STDERR_FILENO);
  std::ostream& err = *ctx.err;
  auto progress = [&](int done, int total) {
    if (!tty) return;
    const int width = 30;
    int fill = total > 0 ? done * width / total : width;
    err << "\r[" << std::string(static_cast<size_t>(fill), '#')
        << std::string(static_cast<size_t>(width - fill), '.') << "] " << done << "/" << total
        << std::flush;
    if (done == total) err << "\n";
  };
  BenchSummary s = run_benchmark(*base, stream, *target, o.config, progress);

  const char* api = target->api == BenchApi::kOllama ? "ollama" : "openai";
  if (ctx.opts.json) {
    nlohmann::json doc = bench_summary_json(s);
    doc["schema"] = "ruvector-memopt.ai-benchmark/1";
    doc["endpoint"] = base->str();
    doc["api"] = api;
    doc["model"] = target->model;
    doc["config"] = {{"requests", o.config.requests},
                     {"concurrency", o.config.concurrency},
                     {"prompt_tokens", o.config.prompt_tokens},
                     {"max_tokens", o.config.max_tokens}};
    print_json(ctx, doc);
  } else {
    std::ostream& out = *ctx.out;
    char line[128];
    out << "Benchmark of " << target->model << " at " << base->str() << " (" << api << " API)\n";
    std::snprintf(line, sizeof line, "  %d requests, concurrency %d, ~%d prompt tokens, max %d tokens\n",
                  o.config.requests, o.config.concurrency, o.config.prompt_tokens, o.config.max_tokens);
    out << line;
    std::snprintf(line, sizeof line, "  ok %d, errors %d, %llu tokens in %.2f s: %.1f tokens/s\n", s.ok,
                  s.errors, static_cast<unsigned long long>(s.tokens), s.wall_s, s.tokens_per_s);
    out << line << "\n";
    out << "                        p50       p95       p99      mean\n";
    auto row = [&](const char* name, const Percentiles& p, bool millis) {
      auto f = [&](double v) { return millis ? ms(v) : std::to_string(v).substr(0, 7); };
      std::snprintf(line, sizeof line, "  %-18s %8s  %8s  %8s  %8s\n", name, f(p.p50).c_str(),
                    f(p.p95).c_str(), f(p.p99).c_str(), f(p.mean).c_str());
      out << line;
    };
    row("TTFT (ms)", s.ttft_s, true);
    row("inter-token (ms)", s.itl_s, true);
    row("request (ms)", s.e2e_s, true);
    row("decode tok/s", s.per_request_tokens_per_s, false);
    for (const std::string& e : s.error_samples) out << "error: " << e << "\n";
  }
  if (s.ok == 0) return fail(ctx, "every request failed" + (s.error_samples.empty() ? std::string() : ": " + s.error_samples[0]));
  return s.errors == 0 ? kExitOk : kExitFailure;
}

RegisterCommands reg(34, [](CliRoot& root) {
  CLI::App* ai = root.group("ai", "AI workloads: detect, plan, models, unload, benchmark, ...");
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = ai->add_subcommand("benchmark", "Measure streaming tokens/s, TTFT and inter-token latency");
  cmd->add_option("--model", o->model, "Model to run (default: the first the server lists)");
  cmd->add_option("--requests", o->config.requests, "Number of requests")->check(CLI::Range(1, 100000))->capture_default_str();
  cmd->add_option("--concurrency", o->config.concurrency, "Requests in flight at once")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--prompt-tokens", o->config.prompt_tokens, "Approximate prompt length")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--max-tokens", o->config.max_tokens, "Tokens to generate per request")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--stream-timeout-ms", o->stream_timeout_ms, "Longest wait for the next streamed bytes")->check(CLI::Range(100, 3600000))->capture_default_str();
  add_endpoint_options(cmd, o->endpoints);
  root.bind(cmd, [o](CliContext& ctx) { return run_bench(ctx, *o); });
});

}  // namespace
}  // namespace memopt::cli
