// replace_file (util/fs_write.h) on Windows: MoveFileEx with
// MOVEFILE_REPLACE_EXISTING (the CRT's rename fails when the target exists)
// and MOVEFILE_WRITE_THROUGH (returns once the move is on disk).
#include <windows.h>

#include <cerrno>
#include <string>

#include "util/fs_write.h"
#include "util/utf16_win.h"

namespace memopt {

bool replace_file(const std::string &from, const std::string &to) {
  if (MoveFileExW(to_utf16(from).c_str(), to_utf16(to).c_str(),
                  MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return true;
  }
  const DWORD e = GetLastError();
  errno = e == ERROR_ACCESS_DENIED ? EACCES : (e == ERROR_FILE_NOT_FOUND ? ENOENT : EIO);
  return false;
}

}  // namespace memopt
