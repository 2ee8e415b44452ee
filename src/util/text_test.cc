#include "util/text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <sstream>

namespace memopt {
namespace {

TEST(TerminalSafe, EscapesC0DelAndKeepsNewlinesOnlyWhenAsked) {
  EXPECT_EQ(terminal_safe("llama\x1b[2Jx\a"), "llama\\x1b[2Jx\\x07");
  EXPECT_EQ(terminal_safe("a\tb\rc\x7f"), "a\\x09b\\x0dc\\x7f");
  EXPECT_EQ(terminal_safe("one\ntwo"), "one\\x0atwo");
  EXPECT_EQ(terminal_safe("one\ntwo", true), "one\ntwo");
  EXPECT_EQ(terminal_safe(std::string("nul\0x", 5)), "nul\\x00x");
}

TEST(TerminalSafe, EscapesC1BidiAndInvalidUtf8) {
  EXPECT_EQ(terminal_safe("a\xc2\x9b"
                          "31mb"),
            "a\\u009b31mb");                                          // C1 CSI
  EXPECT_EQ(terminal_safe("x\xe2\x80\xaey"), "x\\u202ey");            // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(terminal_safe("\xe2\x81\xa6z"), "\\u2066z");              // LEFT-TO-RIGHT ISOLATE
  EXPECT_EQ(terminal_safe("bad\xff\xc0\xaf"), "bad\\xff\\xc0\\xaf");  // invalid, overlong
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");        // a surrogate
  EXPECT_EQ(terminal_safe("cut\xe2\x82"), "cut\\xe2\\x82");           // truncated sequence
}

TEST(TerminalSafe, LeavesPrintableTextAndIsIdempotent) {
  const std::string text = "Qwen2.5 7B \xc3\xa9t\xc3\xa9 \xe6\xa8\xa1\xe5\x9e\x8b C:\\models";
  EXPECT_EQ(terminal_safe(text), text);
  const std::string once = terminal_safe("\x1b]0;title\a\xe2\x80\xae\xff");
  EXPECT_EQ(terminal_safe(once), once);
  for (char c : once) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
}

TEST(ValidUtf8, ReplacesInvalidBytesOnly) {
  EXPECT_EQ(valid_utf8("ok \xc3\xa9"), "ok \xc3\xa9");
  EXPECT_EQ(valid_utf8("a\xff"
                       "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(valid_utf8("\x1b"), "\x1b");  // valid UTF-8; JSON escapes it
}

TEST(Fit, CutsWithTildeCountingCodePointsAfterEscaping) {
  EXPECT_EQ(fit("llama3.2:3b", 20), "llama3.2:3b");
  EXPECT_EQ(fit("llama3.2:3b", 11), "llama3.2:3b");
  EXPECT_EQ(fit("llama3.2:3b", 10), "llama3.2:~");
  EXPECT_EQ(fit("abc", 1), "~");
  EXPECT_EQ(fit("abc", 0), "");
  EXPECT_EQ(fit("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9~");  // never mid-character
  EXPECT_EQ(fit("a\x1b"
                "b",
                5),
            "a\\x1~");  // escapes count as shown
  EXPECT_EQ(text_width("a\x1b"
                       "b"),
            6u);
  EXPECT_EQ(text_width("\xc3\xa9t\xc3\xa9"), 3u);
}

TEST(Fit, PadsToExactlyTheWidth) {
  EXPECT_EQ(pad_right("ab", 4), "ab  ");
  EXPECT_EQ(pad_left("ab", 4), "  ab");
  EXPECT_EQ(pad_right("abcdef", 4), "abc~");
  EXPECT_EQ(pad_left("\xc3\xa9", 3), "  \xc3\xa9");
}

TEST(Wrap, BreaksAtSpacesAndCutsLongWords) {
  EXPECT_EQ(wrap_lines("the quick brown fox", 9),
            (std::vector<std::string>{"the quick", "brown fox"}));
  EXPECT_EQ(wrap_lines("abcdefghij", 4), (std::vector<std::string>{"abcd", "efgh", "ij"}));
  EXPECT_EQ(wrap_lines("", 10), (std::vector<std::string>{""}));
  EXPECT_EQ(wrap_lines("skip    a  b", 20), (std::vector<std::string>{"skip    a  b"}));
  EXPECT_EQ(wrap_lines("aaa    bbb", 5), (std::vector<std::string>{"aaa", "bbb"}));
  EXPECT_EQ(wrap_lines("  lead", 10), (std::vector<std::string>{"  lead"}));
  EXPECT_EQ(wrap_lines("x\x1by", 3), (std::vector<std::string>{"x\\x", "1by"}));
}

TEST(Wrap, BlockIndentsContinuationLinesAndFitsTheWidth) {
  EXPECT_EQ(wrap_block("note: ", "aaa bbb ccc", 2, 14), "note: aaa bbb\n  ccc\n");
  EXPECT_EQ(wrap_block("- ", "short", 4), "- short\n");
  const std::string long_text(300, 'x');
  const std::string out = wrap_block("warning: ", long_text + " tail", 8);
  std::istringstream in(out);
  size_t lines = 0;
  for (std::string line; std::getline(in, line); ++lines) {
    EXPECT_LE(line.size(), 80u) << line;
    if (lines > 0) {
      EXPECT_EQ(line.rfind("        ", 0), 0u) << line;
    }
  }
  EXPECT_EQ(lines, 5u);  // 71 + 72 + 72 + 72 + 13 x's, then " tail"
  EXPECT_NE(out.find("x tail\n"), std::string::npos);
}

TEST(TableRow, ColumnsNeverRunTogetherWhateverTheValuesWidth) {
  // The `ai detect` shape: an empty VRAM cell before a wide RAM value once
  // printed as "-105.8 MiB".
  const std::vector<Column> cols = {{6, false}, {10, true}, {10, true}, {8, false}};
  EXPECT_EQ(table_row(cols, {"ollama", "-", "105.8 MiB", "x"}), "ollama          -  105.8 MiB x");
  for (size_t a = 0; a <= 14; ++a) {
    for (size_t b = 0; b <= 14; ++b) {
      const std::string va(a, '1'), vb(b, '2');
      const std::string row = table_row(cols, {"name", va, vb, "end"});
      SCOPED_TRACE(row);
      ASSERT_EQ(row.size(), 6 + 1 + 10 + 1 + 10 + 1 + 3u);
      // Separators stand where the columns end, whatever filled them.
      EXPECT_EQ(row[6], ' ');
      EXPECT_EQ(row[17], ' ');
      EXPECT_EQ(row[28], ' ');
      const std::string cell_a = row.substr(7, 10), cell_b = row.substr(18, 10);
      EXPECT_EQ(cell_a.substr(cell_a.find_first_not_of(' ') == std::string::npos
                                  ? 10
                                  : cell_a.find_first_not_of(' ')),
                a <= 10 ? va : std::string(9, '1') + "~");
      EXPECT_EQ(cell_b.substr(cell_b.find_first_not_of(' ') == std::string::npos
                                  ? 10
                                  : cell_b.find_first_not_of(' ')),
                b <= 10 ? vb : std::string(9, '2') + "~");
    }
  }
  EXPECT_EQ(table_row(cols, {"a\x1b", "1"}),
            "a\\x1b  " + std::string(9, ' ') + "1 " + std::string(10, ' ') + " ");
  EXPECT_EQ(table_row({{4, false}, {3, false}}, {"ab", "cdef"}), "ab   cd~");  // last: no padding
}

TEST(TerminalSafeBuf, EscapesWhatPassesThroughAndKeepsLines) {
  std::ostringstream sink;
  {
    TerminalSafeBuf buf(sink.rdbuf());
    std::ostream out(&buf);
    out << "model \x1b[31mred\n"
        << "pid " << 42 << '\n'
        << "half \xe2\x80";
    out.flush();  // a character cut by the flush stays whole
    out << "\xae end";
  }
  EXPECT_EQ(sink.str(), "model \\x1b[31mred\npid 42\nhalf \\u202e end");
}

}  // namespace
TEST(FormatDuration, Units) {
  EXPECT_EQ(format_duration(std::nullopt), "-");
  EXPECT_EQ(format_duration(45), "45s");
  EXPECT_EQ(format_duration(192), "3m12s");
  EXPECT_EQ(format_duration(7500), "2h05m");
  EXPECT_EQ(format_duration(90000), "1d01h");
  EXPECT_EQ(format_duration(-1), "-");
  EXPECT_EQ(format_duration(std::nan("")), "-");
  EXPECT_EQ(format_duration(1e300), "11574074074d01h");  // clamped, never undefined
}

}  // namespace memopt
