#pragma once
// Two small text helpers shared by the platform-free /proc parsers
// (process_scanner.cc) and the procfs scan (process_scanner_linux.cc).
#include <charconv>
#include <string_view>

namespace memopt::proc::detail {

// An unsigned number after optional blanks; false when there is none.
template <typename T>
bool parse_uint(std::string_view s, T& out, int base = 10) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p != s.data();
}

// The kernel marks an unlinked file's path with " (deleted)".
inline std::string_view strip_deleted(std::string_view path) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.ends_with(kDeleted)) {
    path.remove_suffix(kDeleted.size());
  }
  return path;
}

}  // namespace memopt::proc::detail
