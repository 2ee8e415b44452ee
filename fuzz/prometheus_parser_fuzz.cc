// libFuzzer target: the Prometheus / OpenMetrics text parser must never
// crash, hang or grow without bound on hostile pages, and what it returns
// must keep its invariants.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtimes/prometheus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  memopt::runtimes::MetricsPage page = memopt::runtimes::parse_prometheus_text(text);
  if (page.issues.size() > 50) std::abort();
  size_t samples = 0;
  for (const auto& f : page.families) {
    if (f.name.empty()) std::abort();
    for (const auto& s : f.samples) {
      ++samples;
      if (s.name.empty()) std::abort();
      for (size_t i = 1; i < s.labels.size(); ++i) {
        if (!(s.labels[i - 1].name < s.labels[i].name)) std::abort();  // sorted, unique
      }
    }
  }
  // Every sample comes from one line of input.
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  if (samples > lines) std::abort();
  (void)page.sum("x");
  (void)page.max("x");
  return 0;
}
