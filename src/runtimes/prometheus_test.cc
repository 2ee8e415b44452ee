#include "runtimes/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "support/replay_server.h"

namespace memopt::runtimes {
namespace {

using memopt::testing::fixture;

// Histogram invariants (§6.7): cumulative buckets and +Inf == _count.
void check_histograms(const MetricsPage& page, const std::string& file) {
  for (const MetricFamily& f : page.families) {
    if (f.type != MetricType::kHistogram) continue;
    // Group buckets by their labels minus "le".
    std::map<std::string, std::vector<std::pair<double, double>>> series;
    std::map<std::string, double> counts;
    for (const Sample& s : f.samples) {
      std::string key;
      for (const Label& l : s.labels) {
        if (l.name != "le") key += l.name + "=" + l.value + ",";
      }
      if (s.name == f.name + "_bucket") {
        const std::string* le = s.label("le");
        ASSERT_NE(le, nullptr) << file << " " << f.name;
        double bound = *le == "+Inf" ? INFINITY : std::stod(*le);
        series[key].push_back({bound, s.value});
      } else if (s.name == f.name + "_count") {
        counts[key] = s.value;
      }
    }
    for (const auto& [key, buckets] : series) {
      ASSERT_FALSE(buckets.empty());
      for (size_t i = 1; i < buckets.size(); ++i) {
        EXPECT_LT(buckets[i - 1].first, buckets[i].first) << file << " " << f.name;
        EXPECT_LE(buckets[i - 1].second, buckets[i].second) << file << " " << f.name;
      }
      EXPECT_TRUE(std::isinf(buckets.back().first)) << file << " " << f.name << " lacks +Inf";
      ASSERT_TRUE(counts.count(key)) << file << " " << f.name << " lacks _count";
      EXPECT_EQ(buckets.back().second, counts[key]) << file << " " << f.name;
    }
  }
}

TEST(Prometheus, EveryMetricsFixtureParsesWithoutIssues) {
  int files = 0;
  const std::string dir = std::string(MEMOPT_FIXTURES_DIR) + "/runtimes";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.find("metrics") == std::string::npos || e.path().extension() != ".txt") continue;
    ++files;
    MetricsPage page = parse_prometheus_text(fixture(name));
    EXPECT_TRUE(page.issues.empty()) << name << ": line " << page.issues[0].line << ": "
                                     << page.issues[0].message;
    EXPECT_GE(page.families.size(), 3u) << name;
    check_histograms(page, name);
  }
  EXPECT_GE(files, 10);
}

TEST(Prometheus, VllmCurrentPage) {
  MetricsPage page = parse_prometheus_text(fixture("vllm-metrics.txt"));
  ASSERT_TRUE(page.max("vllm:kv_cache_usage_perc"));
  EXPECT_DOUBLE_EQ(*page.max("vllm:kv_cache_usage_perc"), 0.4182638888888889);
  EXPECT_EQ(*page.sum("vllm:num_requests_running"), 12.0);
  auto info = page.samples("vllm:cache_config_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(*info[0]->label("kv_cache_size_tokens"), "488960");
  EXPECT_EQ(*info[0]->label("num_gpu_blocks"), "30560");
  // The family of a counter is named by its TYPE line.
  const MetricFamily* f = page.family("vllm:num_preemptions_total");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::kCounter);
  EXPECT_EQ(page.family("vllm:time_to_first_token_seconds")->type, MetricType::kHistogram);
  // Absent metric: unknown, not zero.
  EXPECT_FALSE(page.sum("vllm:gpu_cache_usage_perc").has_value());
}

TEST(Prometheus, LlamaCppLegacyGaugesAndCounterType) {
  MetricsPage page = parse_prometheus_text(fixture("llamacpp-metrics-legacy.txt"));
  EXPECT_DOUBLE_EQ(*page.max("llamacpp:kv_cache_usage_ratio"), 0.131592);
  EXPECT_EQ(*page.sum("llamacpp:kv_cache_tokens"), 1078.0);
  EXPECT_EQ(page.family("llamacpp:n_busy_slots_per_decode")->type, MetricType::kCounter);
  MetricsPage now = parse_prometheus_text(fixture("llamacpp-metrics.txt"));
  EXPECT_FALSE(now.sum("llamacpp:kv_cache_tokens").has_value());
  EXPECT_EQ(now.family("llamacpp:n_busy_slots_per_decode")->type, MetricType::kGauge);
}

TEST(Prometheus, TgiSummaryAndCountersWithoutTotal) {
  MetricsPage page = parse_prometheus_text(fixture("tgi-metrics.txt"));
  const MetricFamily* skipped = page.family("tgi_request_skipped_tokens");
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->type, MetricType::kSummary);
  bool has_quantile = false;
  for (const Sample& s : skipped->samples) has_quantile |= s.label("quantile") != nullptr;
  EXPECT_TRUE(has_quantile);
  EXPECT_EQ(*page.sum("tgi_queue_size"), 2.0);
  EXPECT_EQ(*page.sum("tgi_batch_current_max_tokens"), 38912.0);
}

TEST(Prometheus, SglangSumBeforeBuckets) {
  MetricsPage page = parse_prometheus_text(fixture("sglang-metrics.txt"));
  EXPECT_DOUBLE_EQ(*page.max("sglang:token_usage"), 0.28);
  EXPECT_EQ(*page.sum("sglang:max_total_num_tokens"), 442336.0);
  EXPECT_EQ(*page.sum("sglang:num_used_tokens"), 123859.0);
}

TEST(Prometheus, EdgeCases) {
  MetricsPage page = parse_prometheus_text(fixture("prometheus-exposition-edge-cases.txt"));
  EXPECT_TRUE(page.issues.empty()) << page.issues[0].line << ": " << page.issues[0].message;

  auto reqs = page.samples("http_requests_total");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1]->value, 3);
  ASSERT_TRUE(reqs[1]->timestamp);
  EXPECT_EQ(*reqs[1]->timestamp, 1395066363000.0);
  // Labels are sorted by name.
  EXPECT_EQ(reqs[0]->labels[0].name, "code");

  auto dos = page.samples("msdos_file_access_time_seconds");
  ASSERT_EQ(dos.size(), 1u);
  EXPECT_EQ(*dos[0]->label("path"), "C:\\DIR\\FILE.TXT");
  EXPECT_EQ(*dos[0]->label("error"), "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_DOUBLE_EQ(dos[0]->value, 1.458255915e9);

  auto weird = page.samples("something_weird");
  ASSERT_EQ(weird.size(), 1u);
  EXPECT_TRUE(std::isinf(weird[0]->value) && weird[0]->value > 0);
  EXPECT_EQ(*weird[0]->timestamp, -3982045.0);

  EXPECT_EQ(page.family("escaped_help_text")->help,
            "Backslash \\ and newline \n are escaped in HELP text.");

  std::map<std::string, double> special;
  for (const Sample* s : page.samples("special_values")) special[*s->label("kind")] = s->value;
  EXPECT_TRUE(std::isnan(special["nan"]));
  EXPECT_TRUE(std::isinf(special["pos_inf"]) && special["pos_inf"] > 0);
  EXPECT_TRUE(std::isinf(special["neg_inf"]) && special["neg_inf"] < 0);
  EXPECT_DOUBLE_EQ(special["exp"], 8.128902e+06);
  EXPECT_DOUBLE_EQ(special["neg_exp"], 2.5e-05);
  EXPECT_EQ(special["int"], 42);
  // NaN is missing, not zero: the max skips it.
  EXPECT_EQ(*page.max("special_values"), INFINITY);

  auto tc = page.samples("trailing_comma_metric");
  ASSERT_EQ(tc.size(), 1u);
  EXPECT_EQ(tc[0]->labels.size(), 2u);
  EXPECT_EQ(tc[0]->value, 7);
  auto spaced = page.samples("spaced_metric");
  ASSERT_EQ(spaced.size(), 1u);
  EXPECT_EQ(*spaced[0]->label("a"), "1");
  EXPECT_EQ(spaced[0]->value, 8);

  EXPECT_EQ(page.family("untyped_metric_no_type")->type, MetricType::kUntyped);
  auto vr = page.samples("vllm:num_requests_running");
  ASSERT_EQ(vr.size(), 1u);
  EXPECT_EQ(*vr[0]->label("model_name"), "a \"quoted\" model");

  const MetricFamily* h = page.family("http_request_duration_seconds");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->type, MetricType::kHistogram);
  EXPECT_EQ(h->samples.size(), 8u);
  const MetricFamily* sum = page.family("telemetry_requests_metrics_latency_microseconds");
  EXPECT_EQ(sum->type, MetricType::kSummary);
  EXPECT_EQ(sum->samples.size(), 7u);
  EXPECT_EQ(page.family("vllm:prompt_tokens_created")->type, MetricType::kGauge);
  check_histograms(page, "edge cases");
}

TEST(Prometheus, OpenMetrics) {
  MetricsPage page = parse_prometheus_text(fixture("openmetrics-example.txt"));
  EXPECT_TRUE(page.issues.empty()) << page.issues[0].line << ": " << page.issues[0].message;
  EXPECT_TRUE(page.saw_eof);
  const MetricFamily* acme = page.family("acme_http_router_request_seconds");
  ASSERT_NE(acme, nullptr);
  EXPECT_EQ(acme->unit, "seconds");
  EXPECT_EQ(acme->samples.size(), 3u);
  // OpenMetrics names the counter family without _total.
  const MetricFamily* pt = page.family("vllm:prompt_tokens");
  ASSERT_NE(pt, nullptr);
  EXPECT_EQ(pt->type, MetricType::kCounter);
  EXPECT_EQ(pt->samples.size(), 2u);
  // The exemplar after " # " is skipped; the bucket keeps its value.
  const MetricFamily* foo = page.family("foo");
  ASSERT_NE(foo, nullptr);
  EXPECT_EQ(foo->samples.size(), 6u);
  EXPECT_EQ(foo->samples[0].value, 8);
  EXPECT_EQ(page.family("build")->type, MetricType::kInfo);
  EXPECT_EQ(page.family("build")->samples.size(), 1u);
  EXPECT_EQ(page.family("engine_state")->type, MetricType::kStateset);
  check_histograms(page, "openmetrics");
}

TEST(Prometheus, BadLinesAreReportedAndSkipped) {
  MetricsPage page = parse_prometheus_text(
      "good 1\n"
      "bad{a=\"1\" 2\n"             // unterminated label set
      "bad2{a=1} 2\n"               // unquoted value
      "bad3 notanumber\n"
      "bad4{a=\"x\",a=\"y\"} 1\n"   // repeated label
      "# TYPE t nonsense\n"
      "{\"utf8.name\", l=\"v\"} 5\r\n"
      "good2 2 # trailing exemplar-like text\n"
      "last 3");  // no final newline
  EXPECT_EQ(page.issues.size(), 5u);
  EXPECT_EQ(page.issues[0].line, 2u);
  EXPECT_EQ(*page.sum("good"), 1);
  EXPECT_EQ(*page.sum("good2"), 2);
  EXPECT_EQ(*page.sum("last"), 3);
  auto utf8 = page.samples("utf8.name");
  ASSERT_EQ(utf8.size(), 1u);
  EXPECT_EQ(*utf8[0]->label("l"), "v");
  EXPECT_FALSE(page.sum("bad").has_value());
}

TEST(Prometheus, IssueListIsCapped) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "x{\n";
  MetricsPage page = parse_prometheus_text(text);
  EXPECT_EQ(page.issues.size(), 50u);
  EXPECT_EQ(page.issues_dropped, 450u);
}

}  // namespace
}  // namespace memopt::runtimes
