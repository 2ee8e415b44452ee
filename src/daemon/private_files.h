#pragma once
// The daemon's private files (its API tokens, its history database), the
// platform seam: private_files_linux.cc (POSIX modes, owner uid, no link
// followed) and private_files_win.cc (an access list naming this user alone,
// checked by owner SID and access list as policy::check_private_file does).
#include <cstddef>
#include <string>

#include "util/result.h"

namespace memopt::daemon {

// `n` random bytes from the system's generator (getrandom, BCryptGenRandom).
Status random_bytes(unsigned char* out, size_t n);

// The API token file `path`: its first `max_bytes` when it is a regular file
// this user owns that no one else may read (an error naming the fix when
// not); when there is none, it is created as a new file (never through a file
// or link already there) that only this user may read, holding `content`,
// and `content` is returned.
Result<std::string> read_or_create_token_file(const std::string& path, const std::string& content,
                                              size_t max_bytes);

// The history database file, before SQLite opens it: created private when
// absent; refused when it is a link, not a regular file or another user's;
// made private when others may read it.
Status prepare_history_file(const std::string& path);

}  // namespace memopt::daemon
