#include "runtimes/metrics_fetch.h"

namespace memopt::runtimes {

Result<std::optional<MetricsPage>> fetch_metrics(const HttpClient& http, std::string_view path) {
  // Ask for the classic text format so a server does not pick protobuf (§6.1).
  auto r = http.get(path, "text/plain;version=0.0.4;q=0.9,*/*;q=0.1");
  if (!r) return r.error();
  if (r->status == 404 || r->status == 501) return std::optional<MetricsPage>();
  if (r->status != 200) return http_status_error("GET", http.url(path), *r);
  return std::optional<MetricsPage>(parse_prometheus_text(r->body));
}

}  // namespace memopt::runtimes
