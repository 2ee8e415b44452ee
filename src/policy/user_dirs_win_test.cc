// The Windows state directory's checks through the real security API (under
// Wine in CI): a directory of this user is accepted; once its access list
// lets Everyone write it, it is refused with the account named; the
// locations come from %APPDATA% / %LOCALAPPDATA%.
#include <windows.h>
// After windows.h:
#include <aclapi.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "policy/profile.h"
#include "support/win_acl.h"

namespace memopt::policy {
namespace {

using testing::grant_everyone;

std::string temp_dir(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string(name) + std::to_string(GetCurrentProcessId()));
  std::filesystem::remove_all(p);
  return p.string();
}

// Creates `path` holding `text` with one access entry: this user, full
// control, nothing inherited (what a writer of a secret file asks for).
void write_owner_only(const std::string& path, const std::string& text) {
  HANDLE token = nullptr;
  ASSERT_TRUE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
  unsigned char buf[512];
  DWORD len = 0;
  ASSERT_TRUE(GetTokenInformation(token, TokenUser, buf, sizeof buf, &len));
  CloseHandle(token);
  EXPLICIT_ACCESSW ea{};
  ea.grfAccessPermissions = GENERIC_ALL;
  ea.grfAccessMode = SET_ACCESS;
  ea.grfInheritance = NO_INHERITANCE;
  ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
  ea.Trustee.TrusteeType = TRUSTEE_IS_USER;
  ea.Trustee.ptstrName = static_cast<LPWSTR>(reinterpret_cast<TOKEN_USER*>(buf)->User.Sid);
  PACL acl = nullptr;
  ASSERT_EQ(SetEntriesInAclW(1, &ea, nullptr, &acl), static_cast<DWORD>(ERROR_SUCCESS));
  SECURITY_DESCRIPTOR sd;
  ASSERT_TRUE(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  ASSERT_TRUE(SetSecurityDescriptorDacl(&sd, TRUE, acl, FALSE));
  ASSERT_TRUE(SetSecurityDescriptorControl(&sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED));
  SECURITY_ATTRIBUTES sa{sizeof sa, &sd, FALSE};
  const std::wstring wpath = std::filesystem::path(path).wstring();
  HANDLE f = CreateFileW(wpath.c_str(), GENERIC_WRITE, 0, &sa, CREATE_NEW, FILE_ATTRIBUTE_NORMAL,
                         nullptr);
  LocalFree(acl);
  ASSERT_NE(f, INVALID_HANDLE_VALUE) << GetLastError();
  DWORD wrote = 0;
  EXPECT_TRUE(WriteFile(f, text.data(), static_cast<DWORD>(text.size()), &wrote, nullptr));
  CloseHandle(f);
}

TEST(UserDirsWin, OwnDirectoryIsPrivateUntilEveryoneMayWriteIt) {
  const std::string dir = temp_dir("memopt_private_");
  auto st = make_private_dir(dir + "/state");
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_TRUE(std::filesystem::is_directory(dir + "/state"));

  grant_everyone(dir + "/state", FILE_ADD_FILE | FILE_GENERIC_READ);

  st = make_private_dir(dir + "/state");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("lets "), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("Everyone"), std::string::npos) << st.error().message;
  EXPECT_FALSE(set_active_profile(dir + "/state", "local_llm").ok());
  std::filesystem::remove_all(dir);
}

TEST(UserDirsWin, LocationsComeFromAppDataAndLocalAppData) {
  const char* local = std::getenv("LOCALAPPDATA");
  const char* roaming = std::getenv("APPDATA");
  ASSERT_NE(local, nullptr);
  ASSERT_NE(roaming, nullptr);
  std::string l = local, r = roaming;
  for (auto* s : {&l, &r}) {
    for (char& c : *s) {
      if (c == '\\') c = '/';
    }
  }
  EXPECT_EQ(default_state_dir(), l + "/ruvector-memopt");
  EXPECT_EQ(default_config_path(), r + "/ruvector-memopt/config.toml");
  // A relative value is not trusted: the known folder is used instead.
  _putenv_s("LOCALAPPDATA", "relative\\dir");
  const std::string fallback = default_state_dir();
  _putenv_s("LOCALAPPDATA", local ? l.c_str() : "");
  EXPECT_EQ(fallback.find("relative"), std::string::npos) << fallback;
  EXPECT_NE(fallback.find("/ruvector-memopt"), std::string::npos) << fallback;
}

TEST(UserDirsWin, TokenFileIsTrustedUntilEveryoneMayReadIt) {
  const std::string dir = temp_dir("memopt_token_");
  ASSERT_TRUE(make_private_dir(dir).ok());
  const std::string token = dir + "/api_token";
  auto absent = check_private_file(token, "the daemon token");
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.error().message.find("does not exist"), std::string::npos);
  write_owner_only(token, "secret\n");
  auto mine = check_private_file(token, "the daemon token");
  EXPECT_TRUE(mine.ok()) << mine.error().message;
  grant_everyone(token, FILE_GENERIC_READ);
  auto shared = check_private_file(token, "the daemon token");
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.error().message.find("lets "), std::string::npos) << shared.error().message;
  EXPECT_NE(shared.error().message.find("Everyone read it"), std::string::npos)
      << shared.error().message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace memopt::policy
