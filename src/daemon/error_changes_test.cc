#include "daemon/error_changes.h"

#include <gtest/gtest.h>

namespace memopt::daemon {
namespace {

TEST(ErrorChangeTracker, AFailureIsNewOnceAndEndsOnce) {
  ErrorChangeTracker t;
  const snapshot::CollectorError down{"runtimes",
                                      "GET http://127.0.0.1:8081/props: connection refused"};
  const snapshot::CollectorError gpu{"gpu", "NVML: driver not loaded"};
  auto c = t.update({down});
  ASSERT_EQ(c.began.size(), 1u);
  EXPECT_EQ(c.began[0].message, down.message);
  EXPECT_TRUE(c.ended.empty());
  // The same failure in the next samples: nothing new to say.
  for (int i = 0; i < 3; ++i) {
    c = t.update({down});
    EXPECT_TRUE(c.began.empty());
    EXPECT_TRUE(c.ended.empty());
  }
  // Another one begins beside it; the same one twice in a sample counts once.
  c = t.update({down, gpu, gpu});
  ASSERT_EQ(c.began.size(), 1u);
  EXPECT_EQ(c.began[0].collector, "gpu");
  // The runtime is back.
  c = t.update({gpu});
  EXPECT_TRUE(c.began.empty());
  ASSERT_EQ(c.ended.size(), 1u);
  EXPECT_EQ(c.ended[0], "runtimes: " + down.message);
  // A message that changes is a new failure (and the old one ended).
  c = t.update({{"gpu", "NVML: GPU is lost"}});
  ASSERT_EQ(c.began.size(), 1u);
  ASSERT_EQ(c.ended.size(), 1u);
  EXPECT_EQ(c.ended[0], "gpu: NVML: driver not loaded");
  c = t.update({});
  EXPECT_EQ(c.ended.size(), 1u);
  EXPECT_TRUE(t.update({}).ended.empty());
}

}  // namespace
}  // namespace memopt::daemon
