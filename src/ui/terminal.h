#pragma once
// The `ai watch` shells: a full-screen dashboard (ncurses on Linux,
// terminal_linux.cc; VT sequences in the Windows console and Windows
// Terminal, terminal_win.cc), and a plain mode
// for dumb terminals and pipes that prints the same screen as text at each
// refresh. Both sample the source every interval, keep their own history when
// the source has none, and stop on q, Ctrl-C or SIGTERM with the terminal
// restored.
#include <cstdio>
#include <string>

#include "ui/source.h"

namespace memopt::ui {

struct WatchOptions {
  double interval_seconds = 1.0;
  bool color = true;        // false with NO_COLOR or --no-color
  int max_frames = 0;       // plain mode: stop after this many frames (0: until q / Ctrl-C)
  size_t history_points = 600;
};

// True when the terminal cannot run the full-screen view: stdout is not a
// terminal, TERM is "dumb", on Linux TERM unset, on Windows a console that
// takes no VT sequences.
bool needs_plain_mode(const char* term_env, bool stdout_is_tty);

// Returns 0 on a normal exit, 1 when the terminal could not be set up.
int run_fullscreen_watch(DashboardSource& source, const WatchOptions& opts, std::string& error);

// Prints a frame every interval to `out`; reads single-letter commands
// ("q", "u", "p", "o", "j"/"k") from stdin lines when stdin is readable.
int run_plain_watch(DashboardSource& source, const WatchOptions& opts, FILE* out, int cols);

}  // namespace memopt::ui
