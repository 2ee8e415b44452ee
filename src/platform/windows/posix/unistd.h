#pragma once
// The POSIX calls MinGW's unistd.h lacks: pread (ReadFile at an offset),
// readlink (no symbolic links to read: fails with EINVAL, as for a regular
// file), fsync (_commit), geteuid (no uids: 0 when the process runs
// elevated, the nearest meaning of "can see every user's processes").
#include <errno.h>
#include <io.h>
#include <sys/types.h>
#include_next <unistd.h>
#include <windows.h>

// short, as MinGW's struct stat has st_uid (always 0 there).
typedef short uid_t;

inline ssize_t pread(int fd, void* buf, size_t count, off_t offset) {
  HANDLE h = reinterpret_cast<HANDLE>(_get_osfhandle(fd));
  if (h == INVALID_HANDLE_VALUE) {
    errno = EBADF;
    return -1;
  }
  OVERLAPPED ov{};
  const auto off = static_cast<unsigned long long>(offset);
  ov.Offset = static_cast<DWORD>(off & 0xffffffffu);
  ov.OffsetHigh = static_cast<DWORD>(off >> 32);
  const DWORD want = count > 0x40000000u ? 0x40000000u : static_cast<DWORD>(count);
  DWORD got = 0;
  if (!ReadFile(h, buf, want, &got, &ov)) {
    if (GetLastError() == ERROR_HANDLE_EOF) return 0;
    errno = EIO;
    return -1;
  }
  return static_cast<ssize_t>(got);
}

inline ssize_t readlink(const char* /*path*/, char* /*buf*/, size_t /*size*/) {
  errno = EINVAL;
  return -1;
}

inline int fsync(int fd) { return _commit(fd); }

inline uid_t geteuid() {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return 1;
  TOKEN_ELEVATION e{};
  DWORD len = 0;
  const bool elevated =
      GetTokenInformation(token, TokenElevation, &e, sizeof e, &len) && e.TokenIsElevated != 0;
  CloseHandle(token);
  return elevated ? 0 : 1;
}
