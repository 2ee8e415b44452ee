#include "daemon/action_worker.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace memopt::daemon {
namespace {

// Finished actions wait here until the daemon's next pass takes them; a
// pass that never comes (a test, a stuck history) must not grow it for ever.
constexpr size_t kMaxFinishedKept = 1024;

}  // namespace

ActionWorker::ActionWorker(std::shared_ptr<actuator::Actuator> actuator,
                           std::function<double()> clock, ActionWorkerLimits limits)
    : st_(std::make_shared<State>()), limits_(limits) {
  st_->actuator = std::move(actuator);
  st_->clock = std::move(clock);
  limits_.threads = std::clamp<size_t>(limits_.threads, 1, 16);
  limits_.max_queued = std::clamp<size_t>(limits_.max_queued, 1, 1024);
  for (size_t i = 0; i < limits_.threads; ++i) std::thread(thread_main, st_).detach();
}

ActionWorker::~ActionWorker() {
  std::unique_lock<std::mutex> lock(st_->mu);
  st_->stopping = true;
  // Queued actions are dropped: a stopping daemon starts nothing new.
  for (auto& j : st_->queue) {
    st_->jobs.erase(std::remove(st_->jobs.begin(), st_->jobs.end(), j), st_->jobs.end());
  }
  st_->queue.clear();
  st_->cv.notify_all();
  st_->idle_cv.wait_for(lock, std::chrono::duration<double>(stop_wait_seconds),
                        [&] { return st_->running == 0; });
}

const char* ActionWorker::submit_text(Submit s) {
  switch (s) {
    case Submit::kQueued:
      return "queued";
    case Submit::kTargetInFlight:
      return "an action on this target is still in flight";
    case Submit::kQueueFull:
      return "too many actions in flight";
  }
  return "unknown";
}

ActionWorker::Submit ActionWorker::submit(policy::Action a, double decided_seconds,
                                          int64_t decided_unix_ms,
                                          std::shared_ptr<std::promise<FinishedAction>> done) {
  std::lock_guard<std::mutex> lock(st_->mu);
  for (const auto& j : st_->jobs) {
    if (j->action.target == a.target) return Submit::kTargetInFlight;
  }
  if (st_->queue.size() >= limits_.max_queued) return Submit::kQueueFull;
  auto job = std::make_shared<Job>();
  job->action = std::move(a);
  job->decided_seconds = decided_seconds;
  job->decided_unix_ms = decided_unix_ms;
  job->done = std::move(done);
  st_->jobs.push_back(job);
  st_->queue.push_back(std::move(job));
  st_->cv.notify_one();
  return Submit::kQueued;
}

void ActionWorker::thread_main(std::shared_ptr<State> st) {
  std::unique_lock<std::mutex> lock(st->mu);
  for (;;) {
    st->cv.wait(lock, [&] { return st->stopping || !st->queue.empty(); });
    if (st->stopping) return;
    std::shared_ptr<Job> job = st->queue.front();
    st->queue.pop_front();
    job->running = true;
    st->running++;
    lock.unlock();
    // The runtime's call, without any lock: this is the slow part.
    const double t0 = st->clock();
    Status result = st->actuator->apply(job->action);
    const double t1 = st->clock();
    FinishedAction f;
    f.action = job->action;
    f.action.outcome = result ? "ok" : "failed: " + result.error().message;
    f.ok = result.ok();
    f.decided_unix_ms = job->decided_unix_ms;
    f.decided_seconds = job->decided_seconds;
    f.call_seconds = t1 - t0;
    f.finished_seconds = t1;
    if (job->done) job->done->set_value(f);
    lock.lock();
    st->running--;
    st->jobs.erase(std::remove(st->jobs.begin(), st->jobs.end(), job), st->jobs.end());
    if (st->finished.size() >= kMaxFinishedKept) st->finished.erase(st->finished.begin());
    st->finished.push_back(std::move(f));
    st->idle_cv.notify_all();
  }
}

std::vector<FinishedAction> ActionWorker::take_finished() {
  std::lock_guard<std::mutex> lock(st_->mu);
  std::vector<FinishedAction> out;
  out.swap(st_->finished);
  return out;
}

std::vector<InFlightAction> ActionWorker::in_flight() const {
  std::lock_guard<std::mutex> lock(st_->mu);
  std::vector<InFlightAction> out;
  out.reserve(st_->jobs.size());
  for (const auto& j : st_->jobs) out.push_back({j->action, j->decided_seconds, j->running});
  return out;
}

bool ActionWorker::target_in_flight(const std::string& target) const {
  std::lock_guard<std::mutex> lock(st_->mu);
  return std::any_of(st_->jobs.begin(), st_->jobs.end(),
                     [&](const auto& j) { return j->action.target == target; });
}

}  // namespace memopt::daemon
