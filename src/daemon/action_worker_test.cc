#include "daemon/action_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace memopt::daemon {
namespace {

double clock_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// An actuator whose calls block until released: a runtime reloading.
class GateActuator : public actuator::Actuator {
 public:
  Status apply(const policy::Action& a) override {
    calls++;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
    if (a.model == "bad") return make_error("runtime said no");
    return Ok{};
  }
  Status preload(const std::string&, const std::string&, const std::string&,
                 const std::string&) override {
    return Ok{};
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  std::atomic<int> calls{0};
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
};

policy::Action action(const std::string& model) {
  policy::Action a;
  a.kind = policy::ActionKind::kResizeContext;
  a.runtime = "ollama";
  a.model = model;
  a.target = "ollama/" + model;
  return a;
}

// Waits (bounded) until `pred` holds.
template <typename P>
bool eventually(P pred) {
  for (int i = 0; i < 500; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(ActionWorkerTest, RunsOffTheCallerAndOneActionPerTargetAtATime) {
  auto gate = std::make_shared<GateActuator>();
  ActionWorker w(gate, clock_now);
  const double t0 = clock_now();
  ASSERT_EQ(w.submit(action("a"), t0, 1000), ActionWorker::Submit::kQueued);
  // submit() returned while the runtime's call is still blocked.
  ASSERT_TRUE(eventually([&] { return gate->calls == 1; }));
  auto flying = w.in_flight();
  ASSERT_EQ(flying.size(), 1u);
  EXPECT_EQ(flying[0].action.target, "ollama/a");
  EXPECT_TRUE(flying[0].running);
  EXPECT_TRUE(w.target_in_flight("ollama/a"));
  // The same target again is refused while the first runs; another is not.
  EXPECT_EQ(w.submit(action("a"), t0, 1000), ActionWorker::Submit::kTargetInFlight);
  EXPECT_EQ(w.submit(action("bad"), t0, 1001), ActionWorker::Submit::kQueued);
  EXPECT_TRUE(w.take_finished().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  gate->release();
  std::vector<FinishedAction> done;
  ASSERT_TRUE(eventually([&] {
    for (auto& f : w.take_finished()) done.push_back(std::move(f));
    return done.size() == 2;
  }));
  EXPECT_TRUE(w.in_flight().empty());
  for (const auto& f : done) {
    if (f.action.model == "a") {
      EXPECT_TRUE(f.ok);
      EXPECT_EQ(f.action.outcome, "ok");
      EXPECT_EQ(f.decided_unix_ms, 1000);
      EXPECT_GE(f.call_seconds, 0.04);  // it was held at least the 50 ms above
      EXPECT_GE(f.finished_seconds, t0 + f.call_seconds);
    } else {
      EXPECT_FALSE(f.ok);
      EXPECT_EQ(f.action.outcome, "failed: runtime said no");
    }
  }
  // Once finished, the target may be acted on again.
  EXPECT_EQ(w.submit(action("a"), t0, 1002), ActionWorker::Submit::kQueued);
}

TEST(ActionWorkerTest, TheQueueIsBoundedAndAWaiterGetsTheResult) {
  auto gate = std::make_shared<GateActuator>();
  ActionWorker w(gate, clock_now, {.threads = 1, .max_queued = 2});
  auto first = std::make_shared<std::promise<FinishedAction>>();
  auto result = first->get_future();
  ASSERT_EQ(w.submit(action("m0"), 0, 0, first), ActionWorker::Submit::kQueued);
  ASSERT_TRUE(eventually([&] { return gate->calls == 1; }));
  EXPECT_EQ(w.submit(action("m1"), 0, 0), ActionWorker::Submit::kQueued);
  EXPECT_EQ(w.submit(action("m2"), 0, 0), ActionWorker::Submit::kQueued);
  EXPECT_EQ(w.submit(action("m3"), 0, 0), ActionWorker::Submit::kQueueFull);
  EXPECT_STREQ(ActionWorker::submit_text(ActionWorker::Submit::kQueueFull),
               "too many actions in flight");
  auto flying = w.in_flight();
  ASSERT_EQ(flying.size(), 3u);
  EXPECT_TRUE(flying[0].running);
  EXPECT_FALSE(flying[1].running);
  EXPECT_EQ(result.wait_for(std::chrono::milliseconds(20)), std::future_status::timeout);
  gate->release();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(result.get().action.target, "ollama/m0");
  ASSERT_TRUE(eventually([&] { return w.in_flight().empty(); }));
  EXPECT_EQ(gate->calls, 3);
}

TEST(ActionWorkerTest, StoppingDoesNotWaitForARuntimeThatNeverAnswers) {
  auto gate = std::make_shared<GateActuator>();
  const auto t0 = std::chrono::steady_clock::now();
  {
    ActionWorker w(gate, clock_now);
    w.stop_wait_seconds = 0.2;
    ASSERT_EQ(w.submit(action("stuck"), 0, 0), ActionWorker::Submit::kQueued);
    ASSERT_TRUE(eventually([&] { return gate->calls == 1; }));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  gate->release();  // the left thread finishes on what it holds
}

}  // namespace
}  // namespace memopt::daemon
