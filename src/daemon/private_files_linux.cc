// The daemon's private files on Linux (daemon/private_files.h): mode 0600,
// owner uid, O_NOFOLLOW and O_EXCL so nothing is written through a link.
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "daemon/private_files.h"
#include "policy/profile.h"

namespace memopt::daemon {

Status random_bytes(unsigned char* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::getrandom(out + done, n - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return make_error("cannot get random bytes for the API token: " +
                        std::string(std::strerror(errno)));
    }
    done += static_cast<size_t>(got);
  }
  return Ok{};
}

Result<std::string> read_or_create_token_file(const std::string& path, const std::string& content,
                                              size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (auto st = policy::create_private_file(path, content, "the API token"); !st)
      return st.error();
    return content;
  }
  if (fd < 0) return make_error("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(path + " is not a regular file; remove it and restart the daemon");
  }
  if (st.st_uid != ::geteuid()) {
    ::close(fd);
    return make_error(path + " belongs to uid " + std::to_string(st.st_uid) +
                      ", not to this user; remove it");
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(path + " has mode " + mode +
                      "; others could read the API token. Run: chmod 600 " + path);
  }
  std::string out(max_bytes, '\0');
  const ssize_t n = ::read(fd, out.data(), out.size());
  ::close(fd);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

// Creates the file ourselves (0600, no link followed, ours and regular) so
// SQLite never creates or chmods through a link someone placed there.
Status prepare_history_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == ELOOP) return make_error("history " + path + " is a symbolic link; remove it");
    return make_error("cannot open history " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  Status out = Ok{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    out = make_error("history " + path + " is not a regular file; remove it");
  } else if (st.st_uid != ::geteuid()) {
    out = make_error("history " + path + " belongs to uid " + std::to_string(st.st_uid) +
                     ", not to this user; remove it");
  } else if ((st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
    out = make_error("cannot make history " + path + " private: " + std::strerror(errno));
  }
  ::close(fd);
  return out;
}

}  // namespace memopt::daemon
