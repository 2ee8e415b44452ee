#pragma once
// Checks for option values, run by CLI11 while it parses: a value they
// reject is a usage error (exit 2) whose message names the option and the
// value ("--ctx: 'lots' is not ..."), before the command does anything.
// CLI::Range alone is not enough for floating-point options: NaN compares
// false with both bounds and passes it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>
#include <utility>

#include "util/result.h"
#include "util/text.h"

namespace memopt::cli {

// A check from a parser: `parse(value)` returns a Result, whose error
// message becomes the usage error.
template <typename Parse>
CLI::Validator parsed_by(Parse parse, std::string description = "") {
  return CLI::Validator(
      [parse = std::move(parse)](std::string& value) -> std::string {
        auto r = parse(value);
        return r ? std::string() : r.error().message;
      },
      std::move(description));
}

// A finite number within [min, max]; with `min_exclusive`, above min.
inline Result<double> parse_finite(const std::string& value, double min, double max,
                                   bool min_exclusive = false) {
  double v = 0;
  size_t used = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const bool in_range = std::isfinite(v) && (min_exclusive ? v > min : v >= min) && v <= max;
  if (used == 0 || used != value.size() || !in_range) {
    return make_error(fmt::format("'{}' is not a number {} {} {} {}", terminal_safe(value),
                                  min_exclusive ? "above" : "from", min,
                                  min_exclusive ? "up to" : "to", max));
  }
  return v;
}

// A whole number within [0, max], digits only: CLI11 reads "-1" into an
// unsigned option as 2^64 - 1.
inline Result<uint64_t> parse_whole(const std::string& value, uint64_t max) {
  const bool digits = !value.empty() && value.size() <= 19 &&
                      value.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoull(value) > max) {
    return make_error(
        fmt::format("'{}' is not a whole number from 0 to {}", terminal_safe(value), max));
  }
  return std::stoull(value);
}

inline CLI::Validator whole_up_to(uint64_t max) {
  return parsed_by([=](const std::string& v) { return parse_whole(v, max); });
}

inline CLI::Validator finite_in(double min, double max, bool min_exclusive = false) {
  return parsed_by([=](const std::string& v) { return parse_finite(v, min, max, min_exclusive); });
}

}  // namespace memopt::cli
