#pragma once
// The `ai watch` screen as lines of text with style spans: a pure function of
// the Dashboard, the selection and the terminal size, so every layout rule is
// unit-tested without a terminal. The ncurses shell only paints the result;
// the plain (TERM=dumb) mode prints the text.
#include <string>
#include <vector>

#include "ui/dashboard.h"

namespace memopt::ui {

enum class Style {
  kNormal,
  kTitle,     // the top line and section headings
  kBarLow,    // bar fill below the compact threshold
  kBarMid,    // between compact and offload
  kBarHigh,   // past offload
  kMarker,    // a threshold mark on a bar
  kSelected,  // the selected workload row
  kWarning,
  kDim,
};

struct Span {
  int col = 0;
  int len = 0;
  Style style = Style::kNormal;
};

struct ScreenLine {
  std::string text;  // ASCII, at most `cols` characters
  std::vector<Span> spans;
};

struct ViewState {
  int selected = 0;     // index into Dashboard::workloads
  std::string message;  // last key's outcome, shown on the bottom line
  std::string clock;    // "HH:MM:SS" for the title; the caller owns the clock
};

// Lays out the whole screen in at most `rows` lines of at most `cols`
// characters. Sections shrink in a fixed order when rows are short: the
// history graph first, then actions, then workloads rows.
std::vector<ScreenLine> render_dashboard(const Dashboard& d, const ViewState& v, int cols,
                                         int rows);

// The plain view's frame: `lines` (a tall virtual screen, footer last) as
// text, the blank rows above the footer dropped, each line ending in '\n'.
// A dumb terminal scrolls, so each frame is printed whole after the last.
std::string plain_frame(const std::vector<ScreenLine>& lines);

// A usage bar `width` cells wide (brackets included) with threshold marks at
// the given percentages; the spans colour the fill by the thresholds.
ScreenLine threshold_bar(uint64_t used, uint64_t total, int width,
                         const std::vector<double>& marks_percent);

}  // namespace memopt::ui
