#pragma once
// Carries the policy's actions out off the sampling thread. A reload through
// a runtime's API can take minutes (Ollama waits up to its load_timeout,
// 120 s), and the guard must keep sampling and the API must keep answering
// meanwhile (issue 14). Bounded: a few threads, a short queue, and one action
// per target at a time; what does not fit is refused, never queued without
// end.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "actuator/actuator.h"
#include "policy/engine.h"

namespace memopt::daemon {

// One action carried out, with its times on the daemon's clock.
struct FinishedAction {
  policy::Action action;        // outcome filled: "ok" or "failed: ..."
  int64_t decided_unix_ms = 0;  // the sample it was decided on
  double decided_seconds = 0;   // daemon clock
  double call_seconds = 0;      // how long the runtime's API call took
  double finished_seconds = 0;  // daemon clock
  bool ok = false;
};

// An action queued or running.
struct InFlightAction {
  policy::Action action;
  double decided_seconds = 0;
  bool running = false;  // false: still queued
};

struct ActionWorkerLimits {
  size_t threads = 2;      // actions carried out at the same time
  size_t max_queued = 16;  // waiting for a thread; more are refused
};

class ActionWorker {
 public:
  enum class Submit { kQueued, kTargetInFlight, kQueueFull };

  // `clock` gives the daemon's seconds (the same clock as `decided_seconds`).
  ActionWorker(std::shared_ptr<actuator::Actuator> actuator, std::function<double()> clock,
               ActionWorkerLimits limits = {});
  // Waits at most `stop_wait_seconds` for running actions: a runtime call
  // cannot be cancelled, and a stopping daemon must not hang on one. The
  // threads hold what they use, so one left running finishes safely.
  ~ActionWorker();
  ActionWorker(const ActionWorker&) = delete;
  ActionWorker& operator=(const ActionWorker&) = delete;

  // Queues `a` (its target is Action::target). `done`, when given, is
  // fulfilled with the result as well (an API request waiting for it).
  Submit submit(policy::Action a, double decided_seconds, int64_t decided_unix_ms,
                std::shared_ptr<std::promise<FinishedAction>> done = nullptr);
  // Actions finished since the last call, oldest first (the daemon records
  // them in its history from its own thread).
  std::vector<FinishedAction> take_finished();
  // Queued and running actions, oldest first.
  std::vector<InFlightAction> in_flight() const;
  bool target_in_flight(const std::string& target) const;

  static const char* submit_text(Submit s);

  double stop_wait_seconds = 2;

 private:
  struct Job {
    policy::Action action;
    double decided_seconds = 0;
    int64_t decided_unix_ms = 0;
    std::shared_ptr<std::promise<FinishedAction>> done;
    bool running = false;
  };
  // Shared with the threads, which may outlive the worker (see ~ActionWorker).
  struct State {
    std::shared_ptr<actuator::Actuator> actuator;
    std::function<double()> clock;
    mutable std::mutex mu;
    std::condition_variable cv;       // a job queued, or stopping
    std::condition_variable idle_cv;  // a job finished
    std::deque<std::shared_ptr<Job>> queue;
    std::vector<std::shared_ptr<Job>> jobs;  // queued and running, oldest first
    std::vector<FinishedAction> finished;
    size_t running = 0;
    bool stopping = false;
  };
  static void thread_main(std::shared_ptr<State> st);

  std::shared_ptr<State> st_;
  ActionWorkerLimits limits_;
};

}  // namespace memopt::daemon
