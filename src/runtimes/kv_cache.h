#pragma once
// KVCacheMetrics: one shape for every runtime's KV cache, and for each number
// whether the runtime measured it or we estimated it (the product must never
// present an estimate as a measurement).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memopt::runtimes {

enum class Provenance { kMeasured, kEstimated };
std::string_view provenance_name(Provenance p);  // "measured" / "estimated"

template <typename T>
struct Figure {
  std::optional<T> value;  // nullopt: unknown (never 0 for "unknown")
  Provenance source = Provenance::kMeasured;
  bool known() const { return value.has_value(); }
  static Figure measured(T v) { return Figure{v, Provenance::kMeasured}; }
  static Figure estimated(T v) { return Figure{v, Provenance::kEstimated}; }
};

struct KVCacheMetrics {
  Figure<uint64_t> capacity_tokens;
  Figure<uint64_t> used_tokens;
  Figure<uint64_t> capacity_bytes;
  Figure<uint64_t> used_bytes;
  Figure<double> usage_ratio;  // 0..1 of the allocated pool, not of VRAM
  std::string basis;           // how the numbers were obtained, for --verbose/JSON

  bool empty() const {
    return !capacity_tokens.known() && !used_tokens.known() && !capacity_bytes.known() &&
           !used_bytes.known() && !usage_ratio.known();
  }
  // Fills what follows from what is known: ratio from tokens, used tokens
  // from ratio × capacity, bytes from tokens × bytes_per_token (estimated
  // unless the runtime gave bytes). Pure.
  void complete(std::optional<uint64_t> bytes_per_token);
};

}  // namespace memopt::runtimes
