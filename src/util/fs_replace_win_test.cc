// replace_file and write_file_atomic through the real Windows API (under
// Wine in CI): an existing target is replaced, a missing source is ENOENT.
#include <windows.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>

#include "util/fs_write.h"

namespace memopt {
namespace {

std::string temp_dir(const char* name) {
  auto p = std::filesystem::temp_directory_path() /
           (std::string(name) + std::to_string(GetCurrentProcessId()));
  std::filesystem::remove_all(p);
  return p.string();
}

TEST(FsReplaceWin, ReplacesAnExistingFileAndAtomicWritesDoToo) {
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
  EXPECT_EQ(errno, ENOENT);
  // write_file_atomic over an existing file (the active profile's case).
  ASSERT_TRUE(write_file_atomic(dir + "/old", "newer\n").ok());
  EXPECT_EQ(std::filesystem::file_size(dir + "/old"), 6u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace memopt
