#pragma once
// Replacing a small state file so that a reader (or a crash) sees the old
// content or the new one, never half of it.
#include <string>
#include <string_view>

#include "util/result.h"

namespace memopt {

// Writes `content` to a temporary file beside `path` (mode 0600, created
// with O_EXCL|O_NOFOLLOW, never written through a link), fsyncs it and
// renames it over `path`. Errors name the file and the reason.
Status write_file_atomic(const std::string &path, std::string_view content);

// Moves `from` over `to` in one step, replacing it when it exists (POSIX
// rename; on Windows MoveFileEx, since the CRT's rename refuses an existing
// target): false with errno set when it fails. fs_replace_<system>.cc.
bool replace_file(const std::string &from, const std::string &to);

}  // namespace memopt
