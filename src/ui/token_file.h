#pragma once
// The daemon's API token as its clients (`ai watch --daemon`, the tray) read
// it: the 0600 file the daemon writes (daemon/api_auth.h) in the state dir.
#include <string>

#include "util/result.h"

namespace memopt::ui {

// The token in `path`, refused when the file is missing, readable by others
// or owned by another user (the daemon writes it 0600 for this user).
Result<std::string> read_token_file(const std::string& path);

// `explicit_path` when given; else the state dir's api_token when it exists;
// else "" (no token: the client stays read-only).
std::string token_file_or_default(const std::string& explicit_path);

}  // namespace memopt::ui
