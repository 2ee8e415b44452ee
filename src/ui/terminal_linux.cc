#include "ui/terminal.h"

#include <curses.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <string_view>

#include "ui/controller.h"

namespace memopt::ui {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

// Ctrl-C and SIGTERM only set a flag: the loop then leaves through the same
// path as 'q', so endwin() always runs and the terminal is restored.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

enum Pair : short { kPairTitle = 1, kPairLow, kPairMid, kPairHigh, kPairMarker, kPairWarn };

attr_t attr_for(Style s, bool color) {
  if (!color) {
    // Without colour, attributes still tell selection and headings apart.
    switch (s) {
      case Style::kTitle: return A_BOLD;
      case Style::kSelected: return A_REVERSE;
      case Style::kWarning: return A_BOLD;
      case Style::kMarker: return A_BOLD;
      default: return A_NORMAL;
    }
  }
  switch (s) {
    case Style::kTitle: return COLOR_PAIR(kPairTitle) | A_BOLD;
    case Style::kBarLow: return COLOR_PAIR(kPairLow);
    case Style::kBarMid: return COLOR_PAIR(kPairMid);
    case Style::kBarHigh: return COLOR_PAIR(kPairHigh) | A_BOLD;
    case Style::kMarker: return COLOR_PAIR(kPairMarker) | A_BOLD;
    case Style::kSelected: return A_REVERSE;
    case Style::kWarning: return COLOR_PAIR(kPairWarn) | A_BOLD;
    case Style::kDim: return A_DIM;
    case Style::kNormal: return A_NORMAL;
  }
  return A_NORMAL;
}

void paint(const std::vector<ScreenLine>& lines, bool color) {
  erase();
  for (size_t y = 0; y < lines.size(); ++y) {
    const ScreenLine& l = lines[y];
    mvaddnstr(static_cast<int>(y), 0, l.text.c_str(), static_cast<int>(l.text.size()));
    for (const Span& s : l.spans) {
      mvchgat(static_cast<int>(y), s.col, s.len, attr_for(s.style, color),
              static_cast<short>(PAIR_NUMBER(attr_for(s.style, color))), nullptr);
    }
  }
  refresh();
}

}  // namespace

bool needs_plain_mode(const char* term_env, bool stdout_is_tty) {
  if (!stdout_is_tty || term_env == nullptr) return true;
  const std::string_view t(term_env);
  return t.empty() || t == "dumb";
}

int run_fullscreen_watch(DashboardSource& source, const WatchOptions& opts, std::string& error) {
  StopSignals signals;
  if (initscr() == nullptr) {
    error = "could not initialise the terminal (TERM unknown?); try TERM=dumb for the plain view";
    return 1;
  }
  // From here every exit goes through endwin().
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  curs_set(0);
  timeout(100);  // getch waits at most 100 ms, so signals and ticks are seen
  const bool color = opts.color && has_colors();
  if (color) {
    start_color();
    use_default_colors();
    init_pair(kPairTitle, COLOR_CYAN, -1);
    init_pair(kPairLow, COLOR_GREEN, -1);
    init_pair(kPairMid, COLOR_YELLOW, -1);
    init_pair(kPairHigh, COLOR_RED, -1);
    init_pair(kPairMarker, COLOR_MAGENTA, -1);
    init_pair(kPairWarn, COLOR_RED, -1);
  }
  WatchController ctl(source, opts.history_points);
  double next_tick = 0;
  bool dirty = true;
  while (!g_stop) {
    const double now = now_seconds();
    if (now >= next_tick) {
      ctl.refresh(now);
      next_tick = now + opts.interval_seconds;
      dirty = true;
    }
    if (dirty) {
      int rows = 0, cols = 0;
      getmaxyx(stdscr, rows, cols);
      paint(render_dashboard(ctl.dashboard(), ctl.view(clock_text()), cols, rows), color);
      dirty = false;
    }
    const int ch = getch();
    if (ch == ERR) continue;
    dirty = true;
    if (ch == KEY_RESIZE) continue;  // the next paint reads the new size
    if (ch == KEY_DOWN) {
      ctl.move_selection(1);
      continue;
    }
    if (ch == KEY_UP) {
      ctl.move_selection(-1);
      continue;
    }
    if (ctl.key(ch, now_seconds()) == KeyResult::kQuit) break;
  }
  endwin();
  return 0;
}

int run_plain_watch(DashboardSource& source, const WatchOptions& opts, FILE* out, int cols) {
  StopSignals signals;
  WatchController ctl(source, opts.history_points);
  int frames = 0;
  const bool stdin_readable = isatty(STDIN_FILENO) != 0;
  while (!g_stop) {
    ctl.refresh(now_seconds());
    const std::string frame =
        plain_frame(render_dashboard(ctl.dashboard(), ctl.view(clock_text()), cols, 60));
    if (frames > 0) std::fputs("\n", out);
    std::fputs(frame.c_str(), out);
    std::fflush(out);
    ++frames;
    if (opts.max_frames > 0 && frames >= opts.max_frames) break;
    // Wait for the interval, or a command line on a terminal's stdin.
    const double until = now_seconds() + opts.interval_seconds;
    bool quit = false;
    while (!g_stop && !quit) {
      const double left = until - now_seconds();
      if (left <= 0) break;
      if (!stdin_readable) {
        usleep(static_cast<useconds_t>(std::min(left, 0.1) * 1e6));
        continue;
      }
      pollfd p{STDIN_FILENO, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(std::min(left, 0.1) * 1000)) <= 0) continue;
      char buf[64];
      const ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n <= 0) continue;
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\n' || buf[i] == ' ') continue;
        if (ctl.key(buf[i], now_seconds()) == KeyResult::kQuit) quit = true;
      }
      break;  // redraw after a command
    }
    if (quit) break;
  }
  return 0;
}

}  // namespace memopt::ui
