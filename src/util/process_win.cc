#include "util/process_win.h"

#include <windows.h>

#include "util/utf16_win.h"

namespace memopt {
namespace {

// CommandLineToArgvW's rules: backslashes are literal except before a quote,
// where 2n backslashes + quote are n backslashes and a delimiter, and
// 2n+1 backslashes + quote are n backslashes and a literal quote.
void append_quoted(std::wstring& out, const std::wstring& arg, bool always) {
  if (!always && !arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    out += arg;
    return;
  }
  out += L'"';
  size_t slashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++slashes;
      continue;
    }
    if (c == L'"') out.append(slashes * 2 + 1, L'\\');
    else out.append(slashes, L'\\');
    slashes = 0;
    out += c;
  }
  out.append(slashes * 2, L'\\');
  out += L'"';
}

}  // namespace

std::wstring windows_command_line(const std::vector<std::string>& args) {
  std::wstring out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) out += L' ';
    // The program always in quotes: an unquoted path with a space would be
    // looked up piece by piece ("C:\Program.exe" first).
    append_quoted(out, to_utf16(args[i]), i == 0);
  }
  return out;
}

Result<std::string> this_executable() {
  std::wstring buf(32768, L'\0');
  const DWORD n = GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
  if (n == 0 || n >= buf.size())
    return make_error("cannot find this program's own path (GetModuleFileNameW)");
  return forward_slashes(to_utf8(buf.c_str(), static_cast<int>(n)));
}

Result<Started> start_program(const std::vector<std::string>& args, bool hidden, bool inherit_std,
                              bool wait) {
  if (args.empty()) return make_error("no program to start");
  std::wstring app = to_utf16(args[0]);
  std::wstring line = windows_command_line(args);
  STARTUPINFOW si{};
  si.cb = sizeof si;
  if (inherit_std) {
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  }
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(app.c_str(), line.data(), nullptr, nullptr, inherit_std ? TRUE : FALSE,
                      hidden ? CREATE_NO_WINDOW : 0, nullptr, nullptr, &si, &pi)) {
    return make_error("cannot start " + args[0] + ": Windows error " +
                      std::to_string(GetLastError()));
  }
  Started s;
  s.pid = pi.dwProcessId;
  if (wait) {
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    s.exit_code = static_cast<int>(code);
  }
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return s;
}

}  // namespace memopt
