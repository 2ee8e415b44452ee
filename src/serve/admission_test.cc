#include "serve/admission.h"

#include <gtest/gtest.h>

namespace memopt::serve {
namespace {

constexpr uint64_t GiB = 1ull << 30;

TEST(Admission, FitsWithoutEvictingWhenTheBudgetHoldsBoth) {
  auto a = admit({{"RAM", 10 * GiB}}, {{"a", {4 * GiB}, true, 0, 1}}, "b", {5 * GiB});
  EXPECT_EQ(a.verdict, Admission::Verdict::kFits);
  EXPECT_TRUE(a.evict.empty());
}

TEST(Admission, AModelLargerThanTheBudgetCanNeverFitAndSaysTheNumbers) {
  auto a = admit({{"GPU 0", 6 * GiB}}, {}, "big", {7 * GiB});
  ASSERT_EQ(a.verdict, Admission::Verdict::kNever);
  EXPECT_EQ(a.message,
            "model \"big\" needs 7.0 GiB on GPU 0, budget 6.0 GiB: "
            "it can never fit (lower its -c "
            "or -ngl, or raise memory_budget)");
}

TEST(Admission, EvictsTheSetWithTheFewestBytesOverTheNeed) {
  // Need 3 GiB more: {c} frees 3 exactly, {a} frees 5 (2 over), {b} only 1.
  std::vector<Resident> r = {
      {"a", {5 * GiB}, true, 0, 1}, {"b", {1 * GiB}, true, 0, 2}, {"c", {3 * GiB}, true, 0, 3}};
  auto a = admit({{"RAM", 10 * GiB}}, r, "new", {4 * GiB});  // 9 + 4 = 13: 3 over
  ASSERT_EQ(a.verdict, Admission::Verdict::kEvict);
  EXPECT_EQ(a.evict, std::vector<std::string>{"c"});
}

TEST(Admission, ThenTheLowestPriorityThenTheLeastRecentlyUsed) {
  std::vector<Resident> same_size = {{"hi", {4 * GiB}, true, 5, 1}, {"lo", {4 * GiB}, true, 0, 9}};
  auto a = admit({{"RAM", 8 * GiB}}, same_size, "n", {4 * GiB});
  ASSERT_EQ(a.verdict, Admission::Verdict::kEvict);
  EXPECT_EQ(a.evict, std::vector<std::string>{"lo"});
  std::vector<Resident> same_prio = {{"new", {4 * GiB}, true, 0, 9},
                                     {"old", {4 * GiB}, true, 0, 1}};
  a = admit({{"RAM", 8 * GiB}}, same_prio, "n", {4 * GiB});
  ASSERT_EQ(a.verdict, Admission::Verdict::kEvict);
  EXPECT_EQ(a.evict, std::vector<std::string>{"old"});
}

TEST(Admission, NeverEvictsBusyOrPinnedModelsButWaitsForThem) {
  // "busy" holds memory with a request in flight; "pinned" is never evicted.
  std::vector<Resident> r = {{"busy", {4 * GiB}, false, 0, 1}, {"pinned", {4 * GiB}, false, 0, 2}};
  auto a = admit({{"RAM", 8 * GiB}}, r, "n", {4 * GiB});
  ASSERT_EQ(a.verdict, Admission::Verdict::kWait);
  EXPECT_NE(a.message.find("needs 4.0 GiB on RAM"), std::string::npos) << a.message;
}

TEST(Admission, EveryGpuMustFit) {
  // GPU 1 is the one over: only "b" holds memory there.
  std::vector<Resident> r = {{"a", {3 * GiB, 0}, true, 0, 1}, {"b", {0, 3 * GiB}, true, 0, 2}};
  auto a = admit({{"GPU 0", 8 * GiB}, {"GPU 1", 4 * GiB}}, r, "n", {1 * GiB, 2 * GiB});
  ASSERT_EQ(a.verdict, Admission::Verdict::kEvict);
  EXPECT_EQ(a.evict, std::vector<std::string>{"b"});
}

TEST(Admission, TwoSmallModelsWhenNoSingleOneIsEnough) {
  std::vector<Resident> r = {
      {"a", {2 * GiB}, true, 0, 1}, {"b", {2 * GiB}, true, 0, 2}, {"c", {1 * GiB}, false, 0, 3}};
  auto a = admit({{"RAM", 6 * GiB}}, r, "n", {4 * GiB});  // 5 + 4 = 9: 3 over
  ASSERT_EQ(a.verdict, Admission::Verdict::kEvict);
  EXPECT_EQ(a.evict, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace memopt::serve
