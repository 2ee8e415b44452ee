#pragma once
// Starting programs on Windows without a shell: CreateProcessW takes one
// command line that the child splits again (CommandLineToArgvW's rules), so
// each argument is quoted here so that it comes back exactly as given. Built
// on Windows only (process_win.cc).
#include <string>
#include <vector>

#include "util/result.h"

namespace memopt {

// The command line whose CommandLineToArgvW split is `args`.
std::wstring windows_command_line(const std::vector<std::string>& args);

// This program's own path ('/' separators).
Result<std::string> this_executable();

struct Started {
  unsigned long pid = 0;
  int exit_code = -1;  // with `wait`: the child's exit status
};
// Runs args[0] with args (no shell). `hidden`: no console window (a console
// program started from a desktop program); `inherit_std`: the child writes to
// this process's stdout/stderr; `wait`: until it ends.
Result<Started> start_program(const std::vector<std::string>& args, bool hidden, bool inherit_std,
                              bool wait);

}  // namespace memopt
