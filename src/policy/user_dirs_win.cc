// Where the user's files live on Windows and which of them are private
// (profile.h): the config in %APPDATA%\ruvector-memopt,
// the state (active profile, history, API token) in
// %LOCALAPPDATA%\ruvector-memopt. A directory is private when this user owns
// it and its access list lets none of Everyone, Users, Authenticated Users or
// Anonymous write it (POSIX mode bits mean nothing here). Paths keep '/'
// separators, which Windows accepts, like the rest of the program.
#include <windows.h>
// After windows.h:
#include <aclapi.h>
#include <sddl.h>
#include <shlobj.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "policy/profile.h"
#include "util/utf16_win.h"

namespace memopt::policy {
namespace {

bool absolute(const std::string& p) {
  return (p.size() >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/')) ||
         p.rfind("\\\\", 0) == 0;
}

// %VAR% when it holds an absolute path, else the known folder.
std::string known_dir(const char* var, REFKNOWNFOLDERID id) {
  if (const char* v = std::getenv(var); v && absolute(v)) return forward_slashes(v);
  PWSTR path = nullptr;
  std::string out;
  if (SUCCEEDED(SHGetKnownFolderPath(id, 0, nullptr, &path))) out = forward_slashes(to_utf8(path));
  CoTaskMemFree(path);
  return out;
}

std::string windows_error(DWORD code) {
  return "Windows error " + std::to_string(code);
}

std::string account_of(PSID sid) {
  wchar_t name[256], domain[256];
  DWORD n = 256, d = 256;
  SID_NAME_USE use;
  if (LookupAccountSidW(nullptr, sid, name, &n, domain, &d, &use)) {
    std::string who = to_utf8(domain);
    return (who.empty() ? "" : who + "\\") + to_utf8(name);
  }
  LPWSTR text = nullptr;
  std::string out = "an unknown account";
  if (ConvertSidToStringSidW(sid, &text)) out = to_utf8(text);
  LocalFree(text);
  return out;
}

struct ThisUser {
  std::vector<unsigned char> buf;
  bool elevated = false;
  PSID sid() const { return reinterpret_cast<const TOKEN_USER*>(buf.data())->User.Sid; }
};

bool current_user(ThisUser& out) {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return false;
  DWORD need = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &need);
  bool ok = need > 0 && need < 65536;
  if (ok) {
    out.buf.resize(need);
    ok = GetTokenInformation(token, TokenUser, out.buf.data(), need, &need) != 0;
  }
  TOKEN_ELEVATION e{};
  DWORD len = 0;
  out.elevated = GetTokenInformation(token, TokenElevation, &e, sizeof e, &len) && e.TokenIsElevated;
  CloseHandle(token);
  return ok;
}

bool is_well_known(PSID sid, WELL_KNOWN_SID_TYPE type) { return IsWellKnownSid(sid, type) != 0; }

// The rights that let a holder change what a directory contains, and those
// that let a holder read a file.
constexpr ACCESS_MASK kReadRights = FILE_READ_DATA | GENERIC_READ | GENERIC_ALL;
constexpr ACCESS_MASK kWriteRights = FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_DELETE_CHILD |
                                     WRITE_DAC | WRITE_OWNER | DELETE | GENERIC_WRITE |
                                     GENERIC_ALL;

// `path` belongs to this user (or, elevated, to Administrators) and no
// access entry gives Everyone, Users, Authenticated Users or Anonymous any of
// `rights`; `what` and `harm` word the error, `advice` ends it.
Status private_to_me(const std::string& path, const std::string& what, ACCESS_MASK rights,
                     const std::string& harm, const std::string& advice) {
  const std::wstring w = to_utf16(path);
  PSID owner = nullptr;
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  const DWORD rc = GetNamedSecurityInfoW(w.c_str(), SE_FILE_OBJECT,
                                         OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
                                         &owner, nullptr, &dacl, nullptr, &sd);
  std::unique_ptr<void, decltype(&LocalFree)> hold(sd, &LocalFree);
  if (rc != ERROR_SUCCESS) {
    return make_error("cannot read the owner and access list of " + what + " " + path + ": " +
                      windows_error(rc));
  }
  ThisUser me;
  if (!current_user(me)) {
    return make_error("cannot tell which user this is (OpenProcessToken: " +
                      windows_error(GetLastError()) + ")");
  }
  // An elevated administrator's new objects belong to Administrators.
  const bool mine = owner != nullptr &&
                    (EqualSid(owner, me.sid()) ||
                     (me.elevated && is_well_known(owner, WinBuiltinAdministratorsSid)));
  if (!mine) {
    return make_error(what + " " + path + " belongs to " +
                      (owner ? account_of(owner) : std::string("no one")) +
                      ", not to this user; it could hold another user's data. " + advice);
  }
  if (dacl == nullptr) {
    return make_error(what + " " + path + " has no access list: everyone may " + harm + ". " +
                      advice);
  }
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* raw = nullptr;
    if (!GetAce(dacl, i, &raw)) continue;
    const auto* header = static_cast<const ACE_HEADER*>(raw);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE || (header->AceFlags & INHERIT_ONLY_ACE) != 0)
      continue;
    const auto* ace = static_cast<const ACCESS_ALLOWED_ACE*>(raw);
    if ((ace->Mask & rights) == 0) continue;
    PSID who = const_cast<DWORD*>(&ace->SidStart);
    if (is_well_known(who, WinWorldSid) || is_well_known(who, WinBuiltinUsersSid) ||
        is_well_known(who, WinAuthenticatedUserSid) || is_well_known(who, WinAnonymousSid)) {
      return make_error(what + " " + path + " lets " + account_of(who) + " " + harm + " (icacls \"" +
                        path + "\" shows it). " + advice);
    }
  }
  return Ok{};
}

}  // namespace

std::string default_config_path() {
  const std::string base = known_dir("APPDATA", FOLDERID_RoamingAppData);
  return (base.empty() ? std::string(".") : base) + "/ruvector-memopt/config.toml";
}

std::string default_state_dir() {
  const std::string base = known_dir("LOCALAPPDATA", FOLDERID_LocalAppData);
  return base.empty() ? "" : base + "/ruvector-memopt";
}

Status make_private_dir(const std::string& dir) {
  if (dir.empty()) {
    return make_error(
        "no state directory: LOCALAPPDATA is not set and the known folder could not be read; "
        "pass --state-dir with a directory only you can write");
  }
  const std::wstring w = to_utf16(dir);
  if (w.empty()) return make_error("state directory " + dir + " is not valid UTF-8");
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(w), ec);
  if (ec) return make_error("cannot create directory " + dir + ": " + ec.message());
  const DWORD attrs = GetFileAttributesW(w.c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES)
    return make_error("cannot read " + dir + ": " + windows_error(GetLastError()));
  if ((attrs & FILE_ATTRIBUTE_DIRECTORY) == 0) return make_error(dir + " is not a directory");

  return private_to_me(dir, "state directory", kWriteRights, "write it and replace the files inside",
                       "Use a directory of your own (--state-dir)");
}

Status check_private_file(const std::string& path, const std::string& what) {
  const DWORD attrs = GetFileAttributesW(to_utf16(path).c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES) {
    return make_error("cannot read " + what + " " + path + ": it does not exist");
  }
  return private_to_me(path, what, kReadRights | kWriteRights, "read it",
                       "Pass your own (--token-file)");
}

Status create_private_file(const std::string& path, const std::string& content,
                           const std::string& what) {
  ThisUser me;
  LPWSTR sid = nullptr;
  if (!current_user(me) || !ConvertSidToStringSidW(me.sid(), &sid)) {
    return make_error("cannot create " + what + " " + path +
                      ": cannot tell which user this is (" + windows_error(GetLastError()) + ")");
  }
  // Protected (no inherited entries), full access for this user alone.
  const std::wstring sddl = L"D:P(A;;FA;;;" + std::wstring(sid) + L")";
  LocalFree(sid);
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd,
                                                            nullptr)) {
    return make_error("cannot create " + what + " " + path + ": " +
                      windows_error(GetLastError()));
  }
  std::unique_ptr<void, decltype(&LocalFree)> hold(sd, &LocalFree);
  SECURITY_ATTRIBUTES sa{sizeof sa, sd, FALSE};
  // CREATE_NEW: never through a file (or link) already there.
  HANDLE h = CreateFileW(to_utf16(path).c_str(), GENERIC_WRITE, 0, &sa, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    return make_error("cannot create " + what + " " + path + ": " +
                      windows_error(GetLastError()));
  }
  DWORD put = 0;
  const bool ok = WriteFile(h, content.data(), static_cast<DWORD>(content.size()), &put, nullptr) &&
                  put == content.size() && FlushFileBuffers(h);
  const DWORD e = GetLastError();
  CloseHandle(h);
  if (!ok) return make_error("cannot write " + what + " " + path + ": " + windows_error(e));
  return Ok{};
}

}  // namespace memopt::policy
