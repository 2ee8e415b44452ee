// Run by tests/skip_rule/run.sh (not registered by itself): the C++ guard
// (tests/support/tool_guard.h) on a tool that is never installed, whose
// verdict depends on RVM_ALLOW_SKIP, and the parsing of that variable.
#include <gtest/gtest.h>

#include "support/tool_guard.h"

namespace memopt::testing {
namespace {

TEST(SkipAllowed, ParsesTheCommaList) {
  EXPECT_FALSE(skip_allowed("tmux", nullptr));
  EXPECT_FALSE(skip_allowed("tmux", ""));
  EXPECT_TRUE(skip_allowed("tmux", "tmux"));
  EXPECT_TRUE(skip_allowed("tmux", "chromium,tmux"));
  EXPECT_TRUE(skip_allowed("tmux", " chromium , tmux "));
  EXPECT_TRUE(skip_allowed("tmux", "all"));
  EXPECT_TRUE(skip_allowed("tmux", "chromium,all"));
  // Whole names only: no prefix, no suffix, no empty item matching.
  EXPECT_FALSE(skip_allowed("tmux", "tmuxx"));
  EXPECT_FALSE(skip_allowed("tmux", "tmu"));
  EXPECT_FALSE(skip_allowed("tmux", "chromium,,prometheus"));
  EXPECT_FALSE(skip_allowed("", "chromium,,prometheus"));
  EXPECT_FALSE(skip_allowed("tmux", "ALL"));
}

TEST(SkipAllowed, MessageNamesTheToolTheFixAndTheWayOut) {
  EXPECT_EQ(missing_tool_message("tmux", "apt-get install tmux"),
            "tmux is missing; install it: apt-get install tmux (bash scripts/setup.sh installs "
            "everything), or skip it on purpose with RVM_ALLOW_SKIP=tmux");
}

TEST(Probe, PresentToolRunsTheTest) {
  int reached = 0;
  MEMOPT_REQUIRE_TOOL(true, "memopt-probe-tool", "apt-get install memopt-probe-tool");
  ++reached;
  EXPECT_EQ(reached, 1);
}

TEST(Probe, MissingTool) {
  MEMOPT_REQUIRE_TOOL(false, "memopt-probe-tool", "apt-get install memopt-probe-tool");
  FAIL() << "MEMOPT_REQUIRE_TOOL let the test go on without its tool";
}

}  // namespace
}  // namespace memopt::testing
