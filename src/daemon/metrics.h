#pragma once
// /metrics in the Prometheus text exposition format (version 0.0.4), with the
// conventional names: base units (_bytes, _seconds, _celsius, _watts),
// _total for counters, labels for dimensions (node_exporter's habits).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/action_delays.h"
#include "daemon/sample.h"
#include "policy/engine.h"

namespace memopt::daemon {

// Everything /metrics renders; the daemon replaces it after each pass.
struct MetricsView {
  Sample sample;
  std::vector<policy::GpuForecast> forecasts;
  std::string profile;
  bool apply = false;
  std::map<std::string, uint64_t> actions_total;           // by action kind
  std::map<std::string, uint64_t> collector_errors_total;  // by collector
  uint64_t samples_total = 0;
  double last_pass_seconds = 0;  // time one sample + policy pass took
  bool predictive = true;  // [daemon] mode
  double sample_interval_seconds = 0;  // until the next sample (shorter while an OOM may be near)
  uint64_t actions_in_flight = 0;       // queued or running in the action worker
  uint64_t workload_profiles = 0;       // learned workload profiles (workload_profile.h)
  uint64_t delays_measured_total = 0;   // actions whose memory was seen back
  uint64_t delays_unobserved_total = 0;  // gave up waiting to see it back
  std::vector<DelaySummary> delays;     // learned, from history
};

// Escapes a label value (backslash, double quote, newline), as the format
// requires.
std::string escape_label_value(const std::string& v);

std::string render_metrics(const MetricsView& view);

}  // namespace memopt::daemon
