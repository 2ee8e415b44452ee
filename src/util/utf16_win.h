#pragma once
// Text between the program (UTF-8, '/' separators) and the Windows API
// (UTF-16, either separator): one place for the Windows collectors and
// files (*_win.cc). Built on Windows only (utf16_win.cc).
#include <string>

namespace memopt {

// UTF-8 -> UTF-16; "" for "" or text that is not UTF-8.
std::wstring to_utf16(const std::string& s);
// UTF-16 -> UTF-8: `len` characters, or up to the terminating 0 when -1.
std::string to_utf8(const wchar_t* w, int len = -1);
// '\' -> '/', as the rest of the program writes paths.
std::string forward_slashes(std::string s);

}  // namespace memopt
