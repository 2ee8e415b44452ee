// Where the user's files live (XDG) and which of them are private, on POSIX
// systems (profile.h: default_config_path, default_state_dir,
// make_private_dir, check_private_file); user_dirs_win.cc is the Windows side.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "policy/profile.h"

namespace memopt::policy {

namespace {
// The user's home: $HOME, else the passwd entry. Never /tmp: a shared
// directory would let another user place the state (and the API token).
std::string home_dir() {
  const char* home = std::getenv("HOME");
  if (home && *home == '/') return home;
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_dir &&
      found->pw_dir[0] == '/') {
    return found->pw_dir;
  }
  return "";
}

std::string xdg_dir(const char* var, const char* fallback_under_home) {
  const char* v = std::getenv(var);
  if (v && *v == '/') return v;
  const std::string home = home_dir();
  return home.empty() ? "" : home + "/" + fallback_under_home;
}
}  // namespace

std::string default_config_path() {
  return xdg_dir("XDG_CONFIG_HOME", ".config") + "/ruvector-memopt/config.toml";
}

std::string default_state_dir() {
  const std::string base = xdg_dir("XDG_STATE_HOME", ".local/state");
  return base.empty() ? "" : base + "/ruvector-memopt";
}

namespace {
std::string mode_text(mode_t m) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
  return b;
}
}  // namespace

Status make_private_dir(const std::string& dir) {
  if (dir.empty()) {
    return make_error(
        "no state directory: HOME is not set and this user has no home directory; set "
        "XDG_STATE_HOME (or pass --state-dir) to a directory only you can write");
  }
  std::string cur;
  std::stringstream ss(dir);
  std::string part;
  std::vector<std::string> parents;  // every directory above `dir`
  if (dir[0] == '/') cur = "/";
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    if (!cur.empty()) parents.push_back(cur);
    cur += part + "/";
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
      return make_error("cannot create directory " + cur + ": " + std::strerror(errno));
    }
  }
  const uid_t me = ::geteuid();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return make_error("cannot read " + dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return make_error(dir + " is not a directory");
  if (st.st_uid != me) {
    return make_error(
        "state directory " + dir + " belongs to uid " + std::to_string(st.st_uid) +
        ", not to this user (uid " + std::to_string(me) +
        "); it could hold another user's files. Use a directory of your own (--state-dir)");
  }
  if ((st.st_mode & 022) != 0) {
    return make_error(
        "state directory " + dir + " has mode " + mode_text(st.st_mode) +
        ": group or others may write it and replace the files inside. Run: chmod 700 " + dir);
  }
  // A parent someone else controls can swap the whole directory.
  for (const auto& p : parents) {
    struct stat ps {};
    if (::stat(p.c_str(), &ps) != 0) continue;
    if (ps.st_uid != me && ps.st_uid != 0) {
      return make_error("state directory " + dir + " lies under " + p + ", which belongs to uid " +
                        std::to_string(ps.st_uid) + "; use a directory under your own home");
    }
    if ((ps.st_mode & 022) != 0 && (ps.st_mode & S_ISVTX) == 0) {
      return make_error("state directory " + dir + " lies under " + p + " (mode " +
                        mode_text(ps.st_mode) +
                        "), which others may write; use a directory under your own home");
    }
  }
  return Ok{};
}

Status check_private_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return make_error("cannot read " + what + " " + path + ": it does not exist");
  }
  if ((st.st_mode & 077) != 0) {
    return make_error(what + " " + path + " is readable by others; chmod 600 it");
  }
  if (st.st_uid != ::geteuid()) {
    return make_error(what + " " + path + " belongs to another user; pass your own (--token-file)");
  }
  return Ok{};
}

Status create_private_file(const std::string& path, const std::string& content,
                           const std::string& what) {
  // O_EXCL: never write through a file (or link) someone placed there.
  const int w = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (w < 0) return make_error("cannot create " + what + " " + path + ": " + std::strerror(errno));
  const bool ok = ::write(w, content.data(), content.size()) ==
                      static_cast<ssize_t>(content.size()) &&
                  ::fsync(w) == 0;
  const int e = errno;
  ::close(w);
  if (!ok) return make_error("cannot write " + what + " " + path + ": " + std::strerror(e));
  return Ok{};
}

}  // namespace memopt::policy
