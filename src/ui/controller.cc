#include "ui/controller.h"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace memopt::ui {

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string clock_text() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);  // on Windows from MinGW's time.h (_POSIX_THREAD_SAFE_FUNCTIONS)
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

void WatchController::refresh(double now_seconds) {
  auto r = source_.sample();
  if (!r) {
    message_ = r.error().message;
    dash_.warnings = {"no fresh reading: " + r.error().message};
    return;
  }
  dash_ = std::move(*r);
  has_reading_ = true;
  // A source without history (the standalone sampler) gets the watch's own.
  ring_.push(history_point(dash_, now_seconds));
  if (dash_.history.empty()) dash_.history = ring_.points();
  move_selection(0);
}

void WatchController::move_selection(int delta) {
  const int n = static_cast<int>(dash_.workloads.size());
  selected_ = n == 0 ? 0 : std::clamp(selected_ + delta, 0, n - 1);
}

KeyResult WatchController::key(int ch, double now_seconds) {
  Result<std::string> r = std::string();
  switch (ch) {
    case 'q':
    case 'Q':
      return KeyResult::kQuit;
    case 'j':
      move_selection(1);
      return KeyResult::kContinue;
    case 'k':
      move_selection(-1);
      return KeyResult::kContinue;
    case 'u':
      if (dash_.workloads.empty()) {
        message_ = "nothing to unload";
        return KeyResult::kContinue;
      }
      r = source_.unload(dash_.workloads[static_cast<size_t>(selected_)]);
      break;
    case 'p':
      r = source_.next_profile();
      break;
    case 'o':
      r = source_.optimize();
      break;
    default:
      return KeyResult::kContinue;
  }
  message_ = r ? *r : r.error().message;
  // Show the effect of the action at once rather than at the next tick.
  refresh(now_seconds);
  message_ = r ? *r : r.error().message;
  return KeyResult::kContinue;
}

}  // namespace memopt::ui
