#pragma once
// Windows tests only: changing a file's access list through the real
// security API (under Wine in CI), to check the code that refuses shared
// secrets.
#include <windows.h>
// After windows.h:
#include <aclapi.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace testing {

// Adds an access entry giving Everyone `rights` on `path`.
inline void grant_everyone(const std::string& path, DWORD rights) {
  SID_IDENTIFIER_AUTHORITY world = SECURITY_WORLD_SID_AUTHORITY;
  PSID everyone = nullptr;
  ASSERT_TRUE(AllocateAndInitializeSid(&world, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0, 0, 0,
                                       &everyone));
  EXPLICIT_ACCESSW ea{};
  ea.grfAccessPermissions = rights;
  ea.grfAccessMode = GRANT_ACCESS;
  ea.grfInheritance = NO_INHERITANCE;
  ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
  ea.Trustee.TrusteeType = TRUSTEE_IS_WELL_KNOWN_GROUP;
  ea.Trustee.ptstrName = static_cast<LPWSTR>(everyone);
  const std::wstring wpath = std::filesystem::path(path).wstring();
  PACL old_dacl = nullptr;
  PSECURITY_DESCRIPTOR sd = nullptr;
  ASSERT_EQ(GetNamedSecurityInfoW(wpath.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION,
                                  nullptr, nullptr, &old_dacl, nullptr, &sd),
            static_cast<DWORD>(ERROR_SUCCESS));
  PACL new_dacl = nullptr;
  ASSERT_EQ(SetEntriesInAclW(1, &ea, old_dacl, &new_dacl), static_cast<DWORD>(ERROR_SUCCESS));
  ASSERT_EQ(SetNamedSecurityInfoW(const_cast<LPWSTR>(wpath.c_str()), SE_FILE_OBJECT,
                                  DACL_SECURITY_INFORMATION, nullptr, nullptr, new_dacl, nullptr),
            static_cast<DWORD>(ERROR_SUCCESS));
  LocalFree(new_dacl);
  LocalFree(sd);
  FreeSid(everyone);
}

}  // namespace testing
