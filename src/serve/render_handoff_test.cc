#include "serve/render_handoff.h"

#include <gtest/gtest.h>

namespace memopt::serve {
namespace {

TEST(RenderHandoff, ModesAreTheProfileWords) {
  EXPECT_EQ(handoff_mode("queue"), HandoffMode::kQueue);
  EXPECT_EQ(handoff_mode("reject"), HandoffMode::kReject);
  EXPECT_EQ(handoff_mode("off"), HandoffMode::kOff);
  EXPECT_FALSE(handoff_mode("Queue").has_value());
  EXPECT_STREQ(handoff_mode_name(HandoffMode::kReject), "reject");
}

TEST(RenderHandoff, BeginsOnAJobAndEndsAfterTheQueueStaysEmpty) {
  RenderHandoff h(5);
  EXPECT_FALSE(h.observe(false, true, 0).began);
  EXPECT_FALSE(h.holding());
  auto s = h.observe(true, true, 1);
  EXPECT_TRUE(s.began);
  EXPECT_FALSE(s.ended);
  EXPECT_EQ(h.phase(), RenderHandoff::Phase::kRendering);
  EXPECT_DOUBLE_EQ(h.began_at(), 1);
  EXPECT_FALSE(h.observe(true, true, 2).began);  // one handoff per render
  s = h.observe(false, true, 3);
  EXPECT_EQ(h.phase(), RenderHandoff::Phase::kSettling);
  EXPECT_TRUE(h.holding());
  EXPECT_FALSE(s.ended);
  // The next prompt of the same workflow: still the same render.
  s = h.observe(true, true, 4);
  EXPECT_FALSE(s.began);
  EXPECT_EQ(h.phase(), RenderHandoff::Phase::kRendering);
  EXPECT_FALSE(h.observe(false, true, 5).ended);
  EXPECT_FALSE(h.observe(false, true, 9.9).ended);
  s = h.observe(false, true, 10);
  EXPECT_TRUE(s.ended);
  EXPECT_FALSE(h.holding());
  EXPECT_FALSE(h.observe(false, true, 11).ended);  // ended once
}

TEST(RenderHandoff, ZeroDebounceAndProfileOff) {
  RenderHandoff h(0);
  EXPECT_TRUE(h.observe(true, true, 0).began);
  EXPECT_TRUE(h.observe(false, true, 1).ended);
  EXPECT_FALSE(h.holding());
  // Switched to a profile without handoff mid-render: the LLMs come back.
  RenderHandoff g(30);
  EXPECT_TRUE(g.observe(true, true, 0).began);
  auto s = g.observe(true, false, 1);
  EXPECT_TRUE(s.ended);
  EXPECT_FALSE(g.holding());
  EXPECT_FALSE(g.observe(true, false, 2).began);  // off: renders are ignored
}

}  // namespace
}  // namespace memopt::serve
