// The daemon's private files on Windows (daemon/private_files.h): created
// with an access list naming this user alone (policy::create_private_file),
// and checked by owner and access list (policy::check_private_file) before
// they are read or opened; links (reparse points) are refused.
#include <windows.h>
// After windows.h:
#include <bcrypt.h>

#include <memory>
#include <string>

#include "daemon/private_files.h"
#include "policy/profile.h"
#include "util/utf16_win.h"

namespace memopt::daemon {
namespace {

// Absent, or its attributes; an error for anything but a plain file.
Result<bool> exists_as_plain_file(const std::string& path, const std::string& what) {
  const DWORD attrs = GetFileAttributesW(to_utf16(path).c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES) {
    const DWORD e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND) return false;
    return make_error("cannot read " + what + " " + path + ": Windows error " + std::to_string(e));
  }
  if (attrs & FILE_ATTRIBUTE_REPARSE_POINT)
    return make_error(what + " " + path + " is a link; remove it");
  if (attrs & FILE_ATTRIBUTE_DIRECTORY)
    return make_error(what + " " + path + " is not a regular file; remove it");
  return true;
}

}  // namespace

Status random_bytes(unsigned char* out, size_t n) {
  if (BCryptGenRandom(nullptr, out, static_cast<ULONG>(n), BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
    return make_error("cannot get random bytes for the API token (BCryptGenRandom failed)");
  return Ok{};
}

Result<std::string> read_or_create_token_file(const std::string& path, const std::string& content,
                                              size_t max_bytes) {
  auto there = exists_as_plain_file(path, "the API token");
  if (!there) return there.error();
  if (!*there) {
    if (auto st = policy::create_private_file(path, content, "the API token"); !st)
      return st.error();
    return content;
  }
  if (auto st = policy::check_private_file(path, "the API token"); !st) return st.error();
  HANDLE h = CreateFileW(to_utf16(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr,
                         OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return make_error("cannot open " + path + ": Windows error " + std::to_string(GetLastError()));
  std::string out(max_bytes, '\0');
  DWORD got = 0;
  const bool ok = ReadFile(h, out.data(), static_cast<DWORD>(out.size()), &got, nullptr);
  CloseHandle(h);
  if (!ok) return make_error("cannot read " + path);
  out.resize(got);
  return out;
}

Status prepare_history_file(const std::string& path) {
  auto there = exists_as_plain_file(path, "history");
  if (!there) return there.error();
  if (!*there) return policy::create_private_file(path, "", "history");
  return policy::check_private_file(path, "history");
}

}  // namespace memopt::daemon
