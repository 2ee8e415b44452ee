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

namespace memopt::policy {
namespace {

std::string temp_dir(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string(name) + std::to_string(GetCurrentProcessId()));
  std::filesystem::remove_all(p);
  return p.string();
}

TEST(UserDirsWin, OwnDirectoryIsPrivateUntilEveryoneMayWriteIt) {
  const std::string dir = temp_dir("memopt_private_");
  auto st = make_private_dir(dir + "/state");
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_TRUE(std::filesystem::is_directory(dir + "/state"));

  // Grant Everyone write on the directory itself.
  SID_IDENTIFIER_AUTHORITY world = SECURITY_WORLD_SID_AUTHORITY;
  PSID everyone = nullptr;
  ASSERT_TRUE(AllocateAndInitializeSid(&world, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0, 0, 0,
                                       &everyone));
  EXPLICIT_ACCESSW ea{};
  ea.grfAccessPermissions = FILE_ADD_FILE | FILE_GENERIC_READ;
  ea.grfAccessMode = GRANT_ACCESS;
  ea.grfInheritance = NO_INHERITANCE;
  ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
  ea.Trustee.TrusteeType = TRUSTEE_IS_WELL_KNOWN_GROUP;
  ea.Trustee.ptstrName = static_cast<LPWSTR>(everyone);
  const std::wstring wdir = std::filesystem::path(dir + "/state").wstring();
  PACL old_dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_EQ(GetNamedSecurityInfoW(wdir.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                  nullptr, nullptr, &old_dacl, nullptr, &sd),
            static_cast<DWORD>(ERROR_SUCCESS));
  PACL new_dacl = nullptr;
  ASSERT_EQ(SetEntriesInAclW(1, &ea, old_dacl, &new_dacl), static_cast<DWORD>(ERROR_SUCCESS));
  ASSERT_EQ(SetNamedSecurityInfoW(const_cast<LPWSTR>(wdir.c_str()), SE_FILE_OBJECT,
                                  DACL_SECURITY_INFORMATION, nullptr, nullptr, new_dacl, nullptr),
            static_cast<DWORD>(ERROR_SUCCESS));
  LocalFree(new_dacl);
  LocalFree(sd);
  FreeSid(everyone);

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

TEST(UserDirsWin, ReplaceFileReplacesAnExistingFile) {
  const std::string dir = temp_dir("memopt_replace_");
  std::filesystem::create_directories(dir);
  {
    FILE* a = std::fopen((dir + "/new").c_str(), "w");
    ASSERT_NE(a, nullptr);
    std::fputs("new\n", a);
    std::fclose(a);
    FILE* b = std::fopen((dir + "/old").c_str(), "w");
    ASSERT_NE(b, nullptr);
    std::fputs("old\n", b);
    std::fclose(b);
  }
  ASSERT_TRUE(replace_file(dir + "/new", dir + "/old"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/new"));
  EXPECT_EQ(std::filesystem::file_size(dir + "/old"), 4u);
  EXPECT_FALSE(replace_file(dir + "/absent", dir + "/old"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace memopt::policy
