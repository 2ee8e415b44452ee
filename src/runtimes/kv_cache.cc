#include "runtimes/kv_cache.h"

#include <cmath>

namespace memopt::runtimes {

std::string_view provenance_name(Provenance p) {
  return p == Provenance::kMeasured ? "measured" : "estimated";
}

namespace {
Provenance worst(Provenance a, Provenance b) {
  return (a == Provenance::kEstimated || b == Provenance::kEstimated) ? Provenance::kEstimated
                                                                      : Provenance::kMeasured;
}
}  // namespace

void KVCacheMetrics::complete(std::optional<uint64_t> bytes_per_token) {
  if (!usage_ratio.known() && used_tokens.known() && capacity_tokens.known() &&
      *capacity_tokens.value > 0) {
    usage_ratio = {static_cast<double>(*used_tokens.value) / *capacity_tokens.value,
                   worst(used_tokens.source, capacity_tokens.source)};
  }
  // vLLM gives only a ratio of the allocated pool: tokens in use ≈ ratio ×
  // capacity (runtime-apis.md §8).
  if (!used_tokens.known() && usage_ratio.known() && capacity_tokens.known() &&
      std::isfinite(*usage_ratio.value) && *usage_ratio.value >= 0) {
    double used = std::min(1.0, *usage_ratio.value) * static_cast<double>(*capacity_tokens.value);
    used_tokens = {static_cast<uint64_t>(std::llround(used)),
                   worst(usage_ratio.source, capacity_tokens.source)};
  }
  if (bytes_per_token && *bytes_per_token > 0) {
    if (!capacity_bytes.known() && capacity_tokens.known()) {
      capacity_bytes = Figure<uint64_t>::estimated(*capacity_tokens.value * *bytes_per_token);
    }
    if (!used_bytes.known() && used_tokens.known()) {
      used_bytes = Figure<uint64_t>::estimated(*used_tokens.value * *bytes_per_token);
    }
  }
}

}  // namespace memopt::runtimes
