#include "util/bytes.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace memopt {

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < kKiB) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024.0 && unit < 5) {
    v /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

Result<uint64_t> parse_bytes(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) s.push_back(c);
  }
  if (s.empty()) return make_error("empty size (expected e.g. 24GiB, 512MiB, 1073741824)");
  size_t i = 0;
  bool seen_dot = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || (s[i] == '.' && !seen_dot))) {
    if (s[i] == '.') seen_dot = true;
    ++i;
  }
  if (i == 0) return make_error(fmt::format("size '{}' does not start with a number", text));
  std::string num = s.substr(0, i);
  std::string unit = s.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  uint64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "K" || unit == "KB" || unit == "KIB") mult = kKiB;
  else if (unit == "M" || unit == "MB" || unit == "MIB") mult = kMiB;
  else if (unit == "G" || unit == "GB" || unit == "GIB") mult = kGiB;
  else if (unit == "T" || unit == "TB" || unit == "TIB") mult = kGiB * 1024ULL;
  else return make_error(fmt::format("size '{}' has unknown unit '{}' (use B, KiB, MiB, GiB, TiB)", text, unit));
  double v = 0;
  try {
    v = std::stod(num);
  } catch (...) {
    return make_error(fmt::format("size '{}' is not a number", text));
  }
  double bytes = v * static_cast<double>(mult);
  if (!std::isfinite(bytes) || bytes >= 1.8e19) return make_error(fmt::format("size '{}' is too large", text));
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string usage_bar(uint64_t used, uint64_t total, int width) {
  if (width < 1) width = 1;
  int filled = 0;
  if (total > 0) {
    double frac = static_cast<double>(used) / static_cast<double>(total);
    if (frac > 1.0) frac = 1.0;
    filled = static_cast<int>(std::lround(frac * width));
  }
  std::string bar = "[";
  bar.append(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width - filled), '.');
  bar.push_back(']');
  return bar;
}

std::vector<int> bar_cells(const std::vector<uint64_t>& parts, uint64_t total, int width) {
  width = std::max(width, 0);
  std::vector<int> cells;
  cells.reserve(parts.size());
  uint64_t run = 0;
  int cell = 0;
  for (uint64_t b : parts) {
    run = b > UINT64_MAX - run ? UINT64_MAX : run + b;
    const int end =
        total == 0 ? cell
                   : static_cast<int>(std::lround(
                         std::min(1.0, static_cast<double>(run) / static_cast<double>(total)) *
                         width));
    const int n = std::clamp(end, cell, width) - cell;
    cells.push_back(n);
    cell += n;
  }
  return cells;
}

}  // namespace memopt
