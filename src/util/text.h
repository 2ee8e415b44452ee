#pragma once
// Text for people: what a terminal may be shown, and the fixed-width columns
// and word wrap every command's human output is laid out with. Names,
// command lines, paths and runtime answers come from other programs and
// files, so any of them may hold bytes that move the cursor, retitle the
// window or reorder what follows (ESC sequences, C1 CSI, bidi overrides);
// here they are shown escaped instead.
#include <cstddef>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace memopt {

// `s` as valid UTF-8: each byte of an invalid sequence becomes U+FFFD
// (what JSON output needs; nothing else is changed).
std::string valid_utf8(std::string_view s);

// `s` with every character a terminal would act on shown escaped: C0
// controls (\n kept where `keep_newlines`), DEL and bytes of invalid UTF-8
// as \xNN; C1 controls, bidi embeddings/overrides/isolates and the line and
// paragraph separators as \uNNNN. Printable text, backslashes included, is
// unchanged, so the function is idempotent.
std::string terminal_safe(std::string_view s, bool keep_newlines = false);

// Columns `s` takes once made terminal_safe: one per code point.
size_t text_width(std::string_view s);

// terminal_safe(s) in at most `width` columns: longer text is cut and its
// last column is "~", so a cut never passes for the whole value.
std::string fit(std::string_view s, size_t width);
// fit(s, width), then padded with spaces to exactly `width` columns.
std::string pad_right(std::string_view s, size_t width);
std::string pad_left(std::string_view s, size_t width);

// A duration in at most 6 columns: "45s", "3m12s", "2h05m", "4d03h"; "-" for
// none, a negative or a non-finite value.
std::string format_duration(std::optional<double> seconds);

// terminal_safe(text) word-wrapped into lines of at most `width` columns
// (a word longer than a line is cut across lines). Always one line at least.
std::vector<std::string> wrap_lines(std::string_view text, size_t width);

// `first` followed by `text` word-wrapped to `width` columns; continuation
// lines start with `indent` spaces. Every line ends with "\n".
std::string wrap_block(std::string_view first, std::string_view text, size_t indent,
                       size_t width = 80);

// wrap_block with a hanging indent: continuation lines start under the
// first character of `text` ("warning: a long\n         message").
std::string wrap_hanging(std::string_view first, std::string_view text, size_t width = 80);

// A column of a fixed-width table.
struct Column {
  size_t width = 0;
  bool right_aligned = false;  // numbers and sizes
};
// One row of a table: each cell fitted and padded to its column, one space
// between columns, so no value can run into its neighbour whatever its
// width. The last column is not padded (no trailing spaces); its width caps it.
std::string table_row(const std::vector<Column>& columns, const std::vector<std::string>& cells);

// A streambuf that writes terminal_safe text (newlines kept) to `dest`: the
// last line of defence for human output, whatever a command forgot. Whole
// lines are passed on as they complete, the rest on flush.
class TerminalSafeBuf : public std::streambuf {
 public:
  explicit TerminalSafeBuf(std::streambuf* dest) : dest_(dest) {}
  ~TerminalSafeBuf() override;
  TerminalSafeBuf(const TerminalSafeBuf&) = delete;
  TerminalSafeBuf& operator=(const TerminalSafeBuf&) = delete;

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void pass_on(size_t n);
  std::streambuf* dest_;
  std::string pending_;
};

}  // namespace memopt
