// The daemon's private files on Windows through the real file and security
// API (under Wine in CI): the token file is created once with an access list
// of this user alone and read back; shared with Everyone it is refused; the
// history file is created private; a directory in its place is refused.
#include <windows.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "daemon/private_files.h"
#include "policy/profile.h"
#include "support/win_acl.h"

namespace memopt::daemon {
namespace {

std::string temp_dir(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string(name) + std::to_string(GetCurrentProcessId()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.generic_string();
}

TEST(PrivateFilesWin, TheTokenFileIsCreatedPrivateOnceAndReadBack) {
  const std::string dir = temp_dir("rvm-token");
  const std::string path = dir + "/api_token";
  auto made = read_or_create_token_file(path, "first-token-0123456789abcdef0123456789\n", 256);
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(*made, "first-token-0123456789abcdef0123456789\n");
  // The second daemon start reads it; the new content offered is not used.
  auto again = read_or_create_token_file(path, "second-token\n", 256);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, "first-token-0123456789abcdef0123456789\n");
  EXPECT_TRUE(policy::check_private_file(path, "the token").ok());
  // Readable by Everyone: refused, naming the account.
  testing::grant_everyone(path, FILE_GENERIC_READ);
  auto shared = read_or_create_token_file(path, "x\n", 256);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.error().message.find("Everyone"), std::string::npos) << shared.error().message;
  EXPECT_NE(shared.error().message.find(path), std::string::npos) << shared.error().message;
  std::filesystem::remove_all(dir);
}

TEST(PrivateFilesWin, TheHistoryFileIsCreatedPrivateAndADirectoryIsRefused) {
  const std::string dir = temp_dir("rvm-history");
  const std::string db = dir + "/history.db";
  ASSERT_TRUE(prepare_history_file(db).ok());
  EXPECT_TRUE(std::filesystem::is_regular_file(db));
  EXPECT_EQ(std::filesystem::file_size(db), 0u);
  EXPECT_TRUE(policy::check_private_file(db, "history").ok());
  EXPECT_TRUE(prepare_history_file(db).ok());  // an existing private file is fine
  std::filesystem::create_directories(dir + "/other.db");
  auto st = prepare_history_file(dir + "/other.db");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not a regular file"), std::string::npos)
      << st.error().message;
  std::filesystem::remove_all(dir);
}

TEST(PrivateFilesWin, RandomBytesDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    unsigned char b[32] = {};
    ASSERT_TRUE(random_bytes(b, sizeof b).ok());
    seen.insert(std::string(reinterpret_cast<char*>(b), sizeof b));
  }
  EXPECT_EQ(seen.size(), 8u);
}

}  // namespace
}  // namespace memopt::daemon
