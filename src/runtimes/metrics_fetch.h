#pragma once
// Internal to src/runtimes: GET a Prometheus page. A 404/501 (metrics not
// enabled) is "no page", not an error: a missing metric is unknown.
#include <optional>
#include <string_view>

#include "runtimes/http.h"
#include "runtimes/prometheus.h"

namespace memopt::runtimes {

Result<std::optional<MetricsPage>> fetch_metrics(const HttpClient& http, std::string_view path);

}  // namespace memopt::runtimes
