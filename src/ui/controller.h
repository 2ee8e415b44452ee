#pragma once
// WatchController: the state behind `ai watch` shared by both shells — the
// last reading, the history ring, the selection and the status message — and
// what each key does. No terminal and no clock: the shells pass time in.
#include <string>

#include "ui/screen.h"
#include "ui/source.h"

namespace memopt::ui {

// The shells' clocks: a steady time in seconds for ticks, and the local wall
// time "HH:MM:SS" for the title line.
double now_seconds();
std::string clock_text();

enum class KeyResult { kContinue, kQuit };

class WatchController {
 public:
  WatchController(DashboardSource& source, size_t history_points)
      : source_(source), ring_(history_points) {}

  // Takes a reading; on failure keeps the last one and says why.
  void refresh(double now_seconds);
  // 'q' quit, 'u' unload selected, 'p' next profile, 'o' optimize,
  // 'j'/'k' (and the shells' arrow keys) move the selection.
  KeyResult key(int ch, double now_seconds);
  void move_selection(int delta);

  const Dashboard& dashboard() const { return dash_; }
  ViewState view(const std::string& clock) const { return {selected_, message_, clock}; }
  bool has_reading() const { return has_reading_; }

 private:
  DashboardSource& source_;
  HistoryRing ring_;
  Dashboard dash_;
  bool has_reading_ = false;
  int selected_ = 0;
  std::string message_;
};

}  // namespace memopt::ui
