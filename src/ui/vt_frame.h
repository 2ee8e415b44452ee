#pragma once
// A screen of `ai watch` as one write of VT (ANSI) sequences: what the
// full-screen view sends where there is no curses (Windows Terminal and the
// Windows console with virtual terminal processing). Pure: lines in, bytes
// out, so both builds test it.
#include <string>
#include <vector>

#include "ui/screen.h"

namespace memopt::ui {

// Home the cursor, then each line (already terminal-safe text) with its
// spans' styles as SGR sequences (colours only when `color`; bold, reverse
// and dim otherwise), the rest of each line and of the screen erased, and
// never more than `rows` lines or `cols` columns (a span beyond is clipped).
std::string vt_frame(const std::vector<ScreenLine>& lines, bool color, int cols, int rows);

// Enter / leave the full-screen view: the alternate screen with the cursor
// hidden, and back.
inline constexpr const char* kVtEnter = "\x1b[?1049h\x1b[?25l";
inline constexpr const char* kVtLeave = "\x1b[0m\x1b[?25h\x1b[?1049l";

}  // namespace memopt::ui
