// The state directory's POSIX guarantees (modes, owners, links, the
// passwd home): Linux only. The Windows state directory is the user's
// %LOCALAPPDATA%, protected by its ACL, not by these bits.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "policy/profile.h"
#include "support/temp_dir.h"

namespace memopt::policy {
namespace {

class ProfilePosixTest : public ::testing::Test {
 protected:
  testing::TempDir tmp_;
  std::string dir_ = tmp_.path();
};

// Another user who can write the state directory places a link at the temp
// name: the write must not go through it (issue 13, finding 4).
TEST_F(ProfilePosixTest, ActiveProfileWriteNeverFollowsALink) {
  const std::string state = dir_ + "/state";
  ASSERT_TRUE(make_private_dir(state).ok());
  const std::string victim = dir_ + "/victim";
  std::ofstream(victim) << "precious\n";
  const std::string tmp = active_profile_path(state) + ".tmp." + std::to_string(::getpid());
  ASSERT_EQ(::symlink(victim.c_str(), tmp.c_str()), 0);
  ASSERT_TRUE(set_active_profile(state, "batch_inference").ok());
  std::ifstream in(victim);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "precious");
  EXPECT_EQ(*active_profile(state), "batch_inference");
  EXPECT_FALSE(std::filesystem::exists(tmp));
}

TEST_F(ProfilePosixTest, StateDirWritableByOthersIsRefused) {
  const std::string state = dir_ + "/shared";
  ASSERT_TRUE(make_private_dir(state).ok());
  ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
  auto st = make_private_dir(state);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("mode 0777"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("chmod 700 " + state), std::string::npos);
  EXPECT_FALSE(set_active_profile(state, "local_llm").ok());
  // Under a parent others may write (no sticky bit): refused too.
  ASSERT_EQ(::chmod(state.c_str(), 0777), 0);
  auto below = make_private_dir(state + "/mine");
  ASSERT_FALSE(below.ok());
  EXPECT_NE(below.error().message.find("lies under " + state), std::string::npos)
      << below.error().message;
}

TEST_F(ProfilePosixTest, StateDirOwnedByAnotherUserIsRefused) {
  std::string theirs;
  if (::geteuid() == 0) {
    theirs = dir_ + "/theirs";
    ASSERT_EQ(::mkdir(theirs.c_str(), 0700), 0);
    ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);  // nobody
  } else {
    theirs = "/usr";  // root's, and no one else can make a directory another user owns
  }
  auto st = make_private_dir(theirs);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not to this user"), std::string::npos) << st.error().message;
}

TEST(ProfileStateDir, NoSharedTmpFallbackWithoutHome) {
  const char* home = std::getenv("HOME");
  const std::string saved_home = home ? home : "";
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const std::string saved_xdg = xdg ? xdg : "";
  ::unsetenv("HOME");
  ::unsetenv("XDG_STATE_HOME");
  const std::string dir = default_state_dir();
  if (home) ::setenv("HOME", saved_home.c_str(), 1);
  if (xdg) ::setenv("XDG_STATE_HOME", saved_xdg.c_str(), 1);
  EXPECT_NE(dir.rfind("/tmp", 0), 0u) << dir;
  if (dir.empty()) {
    auto st = make_private_dir(dir);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("XDG_STATE_HOME"), std::string::npos);
  } else {
    EXPECT_EQ(dir.substr(dir.size() - 29), "/.local/state/ruvector-memopt");  // the passwd home
  }
}

}  // namespace
}  // namespace memopt::policy
