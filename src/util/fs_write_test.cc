#include "util/fs_write.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/temp_dir.h"

namespace memopt {
namespace {

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(WriteFileAtomic, ReplacesWholeFilesPrivately) {
  testing::TempDir dir;
  const std::string path = dir.file("state");
  ASSERT_TRUE(write_file_atomic(path, "first\n"));
  ASSERT_TRUE(write_file_atomic(path, std::string(100000, 'x')));
  EXPECT_EQ(slurp(path), std::string(100000, 'x'));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(WriteFileAtomic, NeverWritesThroughALinkAtTheTemporaryName) {
  testing::TempDir dir;
  const std::string path = dir.file("state");
  const std::string victim = dir.file("victim");
  std::ofstream(victim) << "keep";
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::symlink(victim.c_str(), tmp.c_str()), 0);
  ASSERT_TRUE(write_file_atomic(path, "new"));
  EXPECT_EQ(slurp(victim), "keep");
  EXPECT_EQ(slurp(path), "new");
}

TEST(WriteFileAtomic, ErrorsNameTheFile) {
  auto st = write_file_atomic("/nonexistent-dir-for-memopt/state", "x");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("/nonexistent-dir-for-memopt/state"), std::string::npos)
      << st.error().message;
}

}  // namespace
}  // namespace memopt
