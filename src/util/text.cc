#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

namespace memopt {
namespace {

// Length of the valid UTF-8 sequence at s[i] (and its code point), or 0
// where it is not one: overlong forms, surrogates and code points past
// U+10FFFF are invalid (RFC 3629, section 4).
size_t utf8_sequence(std::string_view s, size_t i, char32_t& cp) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t len;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return len;
}

// Code points a terminal acts on rather than shows: C1 controls (U+009B is
// CSI to some terminals), the bidi embeddings, overrides and isolates that
// reorder what follows ("Trojan Source", CVE-2021-42574), and the line and
// paragraph separators.
bool is_unsafe_code_point(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e ||
         cp == 0x200f || cp == 0x061c;
}

void append_hex_byte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// Byte offset after the first `n` code points of already-safe `s`.
size_t offset_of_column(std::string_view s, size_t n) {
  size_t i = 0;
  while (i < s.size() && n > 0) {
    ++i;
    while (i < s.size() && is_continuation(s[i])) ++i;
    --n;
  }
  return i;
}

size_t count_columns(std::string_view safe) {
  size_t n = 0;
  for (char c : safe) n += is_continuation(c) ? 0 : 1;
  return n;
}

// Greedy word wrap of already-safe text: the first line holds `first`
// columns, later ones `rest`; a word wider than its line is cut. Runs of
// spaces inside a line are kept (aligned labels); a line never starts with
// the spaces it was broken at.
std::vector<std::string> wrap_safe(std::string_view safe, size_t first, size_t rest) {
  std::vector<std::string> lines;
  std::string cur;
  size_t cur_cols = 0;
  auto room = [&]() { return std::max<size_t>(lines.empty() ? first : rest, 1); };
  size_t gap = 0;  // spaces seen since the last word
  bool first_word = true;
  size_t pos = 0;
  while (pos < safe.size()) {
    const size_t sp = safe.find(' ', pos);
    std::string_view word = safe.substr(pos, (sp == std::string::npos ? safe.size() : sp) - pos);
    pos = sp == std::string::npos ? safe.size() : sp + 1;
    if (word.empty()) {
      ++gap;
      continue;
    }
    size_t spaces = first_word ? gap : gap + 1;
    gap = 0;
    size_t cols = count_columns(word);
    if (!first_word && cur_cols + spaces + cols > room()) {
      lines.push_back(std::move(cur));
      cur.clear();
      cur_cols = 0;
    }
    if (cur_cols == 0 && !first_word) spaces = 0;
    first_word = false;
    cur.append(spaces, ' ');
    cur_cols += spaces;
    while (cur_cols == 0 && cols > room()) {
      const size_t cut = offset_of_column(word, room());
      cols -= room();
      lines.emplace_back(word.substr(0, cut));
      word.remove_prefix(cut);
    }
    cur.append(word);
    cur_cols += cols;
  }
  if (!cur.empty() || lines.empty()) lines.push_back(std::move(cur));
  return lines;
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string terminal_safe(std::string_view s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    const size_t len = utf8_sequence(s, i, cp);
    if (len == 0) {
      append_hex_byte(out, static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (len == 1 && (cp < 0x20 || cp == 0x7f) && !(keep_newlines && cp == '\n')) {
      append_hex_byte(out, static_cast<unsigned char>(cp));
    } else if (is_unsafe_code_point(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

size_t text_width(std::string_view s) { return count_columns(terminal_safe(s)); }

std::string fit(std::string_view s, size_t width) {
  std::string safe = terminal_safe(s);
  if (count_columns(safe) <= width) return safe;
  if (width == 0) return "";
  safe.resize(offset_of_column(safe, width - 1));
  return safe + "~";
}

std::string pad_right(std::string_view s, size_t width) {
  std::string out = fit(s, width);
  out.append(width - count_columns(out), ' ');
  return out;
}

std::string pad_left(std::string_view s, size_t width) {
  std::string out = fit(s, width);
  return std::string(width - count_columns(out), ' ') + out;
}

std::vector<std::string> wrap_lines(std::string_view text, size_t width) {
  return wrap_safe(terminal_safe(text), width, width);
}

std::string wrap_block(std::string_view first, std::string_view text, size_t indent, size_t width) {
  const std::string head = terminal_safe(first);
  const size_t head_cols = count_columns(head);
  // Continuation lines keep room for a few words, whatever the indent.
  indent = std::min(indent, width > 10 ? width - 10 : 0);
  const auto lines =
      wrap_safe(terminal_safe(text), width > head_cols ? width - head_cols : 1, width - indent);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += (i == 0 ? head : std::string(indent, ' ')) + lines[i] + "\n";
  }
  return out;
}

std::string wrap_hanging(std::string_view first, std::string_view text, size_t width) {
  return wrap_block(first, text, text_width(first), width);
}

std::string table_row(const std::vector<Column>& columns, const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string cell = i < cells.size() ? cells[i] : std::string();
    if (i > 0) out += ' ';
    if (columns[i].right_aligned) {
      out += pad_left(cell, columns[i].width);
    } else if (i + 1 == columns.size()) {
      out += fit(cell, columns[i].width);
    } else {
      out += pad_right(cell, columns[i].width);
    }
  }
  return out;
}

TerminalSafeBuf::~TerminalSafeBuf() {
  pass_on(pending_.size());
  dest_->pubsync();
}

void TerminalSafeBuf::pass_on(size_t n) {
  if (n == 0) return;
  const std::string safe = terminal_safe(std::string_view(pending_).substr(0, n), true);
  dest_->sputn(safe.data(), static_cast<std::streamsize>(safe.size()));
  pending_.erase(0, n);
}

TerminalSafeBuf::int_type TerminalSafeBuf::overflow(int_type ch) {
  if (traits_type::eq_int_type(ch, traits_type::eof())) return sync() == 0 ? 0 : ch;
  pending_ += traits_type::to_char_type(ch);
  if (ch == '\n') pass_on(pending_.size());
  return ch;
}

std::streamsize TerminalSafeBuf::xsputn(const char* s, std::streamsize n) {
  pending_.append(s, static_cast<size_t>(n));
  if (const size_t nl = pending_.rfind('\n'); nl != std::string::npos) pass_on(nl + 1);
  return n;
}

int TerminalSafeBuf::sync() {
  // Keep a character cut by the flush (at most 3 bytes of a 4-byte one) for
  // the next write, so it is judged whole.
  size_t keep = 0;
  for (size_t k = 1; k <= 3 && k <= pending_.size(); ++k) {
    const auto c = static_cast<unsigned char>(pending_[pending_.size() - k]);
    if ((c & 0xc0) == 0x80) continue;
    const size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (need > k) keep = k;
    break;
  }
  pass_on(pending_.size() - keep);
  return dest_->pubsync();
}

std::string format_duration(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "-";
  const auto s = static_cast<uint64_t>(std::min(*seconds, 1e15));
  char b[32];
  if (s < 60) {
    std::snprintf(b, sizeof b, "%llus", static_cast<unsigned long long>(s));
  } else if (s < 3600) {
    std::snprintf(b, sizeof b, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(b, sizeof b, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>((s % 3600) / 60));
  } else {
    std::snprintf(b, sizeof b, "%llud%02lluh", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>((s % 86400) / 3600));
  }
  return b;
}

}  // namespace memopt
