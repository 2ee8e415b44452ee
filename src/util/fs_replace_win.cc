// replace_file (util/fs_write.h) on Windows: MoveFileEx with
// MOVEFILE_REPLACE_EXISTING (the CRT's rename fails when the target exists)
// and MOVEFILE_WRITE_THROUGH (returns once the move is on disk).
#include <windows.h>

#include <cerrno>
#include <string>

#include "util/fs_write.h"

namespace memopt {
namespace {
std::wstring wide(const std::string &s) {
  if (s.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  if (n <= 0) return {};
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}
}  // namespace

bool replace_file(const std::string &from, const std::string &to) {
  if (MoveFileExW(wide(from).c_str(), wide(to).c_str(),
                  MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return true;
  }
  const DWORD e = GetLastError();
  errno = e == ERROR_ACCESS_DENIED ? EACCES : (e == ERROR_FILE_NOT_FOUND ? ENOENT : EIO);
  return false;
}

}  // namespace memopt
