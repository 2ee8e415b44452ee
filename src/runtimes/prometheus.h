#pragma once
// A tolerant parser for the Prometheus text exposition format (0.0.4) and the
// OpenMetrics 1.0 text format, as served by vLLM, SGLang, llama.cpp and TGI.
// Rules: research/runtime-apis.md §6 (from the Prometheus "Exposition formats"
// doc and the OpenMetrics spec). A bad line is reported and skipped; it never
// fails the whole page.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace memopt::runtimes {

enum class MetricType {
  kUntyped,
  kCounter,
  kGauge,
  kHistogram,
  kSummary,
  kInfo,            // OpenMetrics
  kStateset,        // OpenMetrics
  kGaugeHistogram,  // OpenMetrics
  kUnknown,         // OpenMetrics spelling of untyped
};
std::string_view metric_type_name(MetricType type);

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};

struct Sample {
  std::string name;           // the series name as written, e.g. x_bucket
  std::vector<Label> labels;  // sorted by name (exporters disagree on order)
  double value = 0;           // may be NaN or ±Inf
  std::optional<double> timestamp;  // as written: ms in 0.0.4, seconds in OpenMetrics
  // The value of label `name`, or nullptr.
  const std::string* label(std::string_view name) const;
};

struct MetricFamily {
  std::string name;  // the TYPE name, or the sample name for an untyped series
  MetricType type = MetricType::kUntyped;
  std::string help;  // unescaped
  std::string unit;  // OpenMetrics # UNIT
  std::vector<Sample> samples;
};

struct ParseIssue {
  size_t line = 0;  // 1-based
  std::string message;
};

struct MetricsPage {
  std::vector<MetricFamily> families;
  std::vector<ParseIssue> issues;  // capped; see issues_dropped
  size_t issues_dropped = 0;
  bool saw_eof = false;  // OpenMetrics "# EOF"

  const MetricFamily* family(std::string_view name) const;
  // Every sample whose series name is exactly `sample_name`, across families.
  std::vector<const Sample*> samples(std::string_view sample_name) const;
  // Sum / max of the non-NaN samples named `sample_name` (one series per
  // engine or rank: counts add up, ratios take the max). nullopt when the
  // metric is absent: a missing metric is unknown, not zero.
  std::optional<double> sum(std::string_view sample_name) const;
  std::optional<double> max(std::string_view sample_name) const;
};

MetricsPage parse_prometheus_text(std::string_view text);

}  // namespace memopt::runtimes
