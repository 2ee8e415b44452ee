#include "ui/vt_frame.h"

#include <algorithm>

namespace memopt::ui {
namespace {

const char* sgr(Style s, bool color) {
  if (!color) {
    switch (s) {
      case Style::kTitle:
      case Style::kWarning:
      case Style::kMarker: return "\x1b[1m";
      case Style::kSelected: return "\x1b[7m";
      case Style::kDim: return "\x1b[2m";
      default: return "";
    }
  }
  switch (s) {
    case Style::kTitle: return "\x1b[1;36m";
    case Style::kBarLow: return "\x1b[32m";
    case Style::kBarMid: return "\x1b[33m";
    case Style::kBarHigh: return "\x1b[1;31m";
    case Style::kMarker: return "\x1b[1;35m";
    case Style::kSelected: return "\x1b[7m";
    case Style::kWarning: return "\x1b[1;31m";
    case Style::kDim: return "\x1b[2m";
    case Style::kNormal: return "";
  }
  return "";
}

// Byte offset of column `col` in UTF-8 text (one column per code point, as
// the screen renders it).
size_t byte_at(const std::string& s, int col) {
  size_t i = 0;
  for (int c = 0; c < col && i < s.size(); ++c) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

}  // namespace

std::string vt_frame(const std::vector<ScreenLine>& lines, bool color, int cols, int rows) {
  std::string out = "\x1b[H";
  const int n = std::min(static_cast<int>(lines.size()), std::max(rows, 0));
  for (int y = 0; y < n; ++y) {
    const ScreenLine& l = lines[static_cast<size_t>(y)];
    const std::string text = l.text.substr(0, byte_at(l.text, std::max(cols, 0)));
    // Styles by column: the last span that covers a column wins, as when
    // curses paints the spans one after another.
    const int width = static_cast<int>(std::count_if(text.begin(), text.end(), [](char ch) {
      return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    }));
    std::vector<Style> at(static_cast<size_t>(width), Style::kNormal);
    for (const Span& s : l.spans) {
      for (int c = std::max(s.col, 0); c < std::min(s.col + s.len, width); ++c)
        at[static_cast<size_t>(c)] = s.style;
    }
    Style cur = Style::kNormal;
    size_t from = 0;
    for (int c = 0; c <= width; ++c) {
      const Style want = c < width ? at[static_cast<size_t>(c)] : Style::kNormal;
      if (c < width && want == cur) continue;
      const size_t to = byte_at(text, c);
      out.append(text, from, to - from);
      from = to;
      if (want != cur) {
        out += "\x1b[0m";
        out += sgr(want, color);
        cur = want;
      }
    }
    out += "\x1b[0m\x1b[K";
    if (y + 1 < n) out += "\r\n";
  }
  out += "\x1b[J";
  return out;
}

}  // namespace memopt::ui
