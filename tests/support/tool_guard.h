#pragma once
// The C++ side of the rule in tests/support/tools.sh: a test that cannot run
// because a tool is missing FAILS, naming the tool and how to install it,
// unless RVM_ALLOW_SKIP (a comma list of tool names, or "all") names it; then
// it is skipped, and CTest reports it skipped (gtest_discover_tests matches
// "[  SKIPPED ]").
//
//   MEMOPT_REQUIRE_TOOL(fs::exists(python), "python3", "apt-get install python3");
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace memopt::testing {

// True when `allow` (RVM_ALLOW_SKIP's value; null when unset) names `tool`
// or "all". Items are trimmed of spaces; an empty item names nothing.
inline bool skip_allowed(std::string_view tool, const char* allow) {
  if (allow == nullptr) return false;
  std::string_view rest(allow);
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty() && (item == "all" || item == tool)) return true;
    if (comma == std::string_view::npos) return false;
    rest.remove_prefix(comma + 1);
  }
}

inline bool skip_allowed(std::string_view tool) {
  return skip_allowed(tool, std::getenv("RVM_ALLOW_SKIP"));
}

inline std::string missing_tool_message(std::string_view tool, std::string_view hint) {
  return std::string(tool) + " is missing; install it: " + std::string(hint) +
         " (bash scripts/setup.sh installs everything), or skip it on purpose with "
         "RVM_ALLOW_SKIP=" +
         std::string(tool);
}

}  // namespace memopt::testing

// Fails the current test (or skips it, when allowed) if `present` is false.
// GTEST_SKIP and FAIL return from the test body, so this must be called there.
#define MEMOPT_REQUIRE_TOOL(present, tool, hint)                            \
  do {                                                                      \
    if (!(present)) {                                                       \
      if (::memopt::testing::skip_allowed(tool)) {                          \
        GTEST_SKIP() << tool << " is missing and RVM_ALLOW_SKIP allows it"; \
      }                                                                     \
      FAIL() << ::memopt::testing::missing_tool_message(tool, hint);        \
    }                                                                       \
  } while (0)
