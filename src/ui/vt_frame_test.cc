#include "ui/vt_frame.h"

#include <gtest/gtest.h>

namespace memopt::ui {
namespace {

TEST(VtFrame, StylesBecomeSgrAndEveryLineIsClearedToItsEnd) {
  ScreenLine l{"ab", {{1, 1, Style::kBarHigh}}};
  EXPECT_EQ(vt_frame({l}, true, 80, 24),
            "\x1b[H"
            "a\x1b[0m\x1b[1;31mb\x1b[0m"
            "\x1b[0m\x1b[K\x1b[J");
  // Without colour: bold / reverse / dim only; a bar fill is plain.
  ScreenLine sel{"xyz", {{0, 3, Style::kSelected}}};
  ScreenLine bar{"##", {{0, 2, Style::kBarLow}}};
  EXPECT_EQ(vt_frame({sel, bar}, false, 80, 24),
            "\x1b[H"
            "\x1b[0m\x1b[7mxyz\x1b[0m\x1b[0m\x1b[K\r\n"
            "\x1b[0m##\x1b[0m\x1b[0m\x1b[K\x1b[J");
}

TEST(VtFrame, ClipsToTheWindowAndToleratesSpansOutsideTheText) {
  std::vector<ScreenLine> lines = {{"abcdef", {{4, 10, Style::kTitle}, {-5, 2, Style::kDim}}},
                                   {"second", {}},
                                   {"third", {}}};
  const std::string f = vt_frame(lines, true, 3, 2);
  EXPECT_EQ(f, "\x1b[Habc\x1b[0m\x1b[K\r\nsec\x1b[0m\x1b[K\x1b[J");
  EXPECT_EQ(f.find("third"), std::string::npos);
  EXPECT_EQ(vt_frame(lines, true, 0, 0), "\x1b[H\x1b[J");
  // A multi-byte character counts as one column and is never split.
  const std::string u = vt_frame({{"\xc2\xb5s!", {{1, 1, Style::kWarning}}}}, true, 2, 5);
  EXPECT_EQ(u, "\x1b[H\xc2\xb5\x1b[0m\x1b[1;31ms\x1b[0m\x1b[0m\x1b[K\x1b[J");
}

}  // namespace
}  // namespace memopt::ui
