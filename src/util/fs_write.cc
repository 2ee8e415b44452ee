#include "util/fs_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace memopt {

Status write_file_atomic(const std::string &path, std::string_view content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  // O_EXCL|O_NOFOLLOW: never write through a file or link placed at the
  // temp name; a stale one of ours (a crash) is removed (the link itself,
  // not its target) and the create tried once more.
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(tmp.c_str(), flags, 0600);
  if (fd < 0 && errno == EEXIST && ::unlink(tmp.c_str()) == 0)
    fd = ::open(tmp.c_str(), flags, 0600);
  if (fd < 0) return make_error("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = true;
  size_t done = 0;
  while (ok && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  // rename() is atomic: a reader sees the old file or the new one.
  if (!ok || !replace_file(tmp, path)) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    return make_error("cannot save " + path + ": " + std::strerror(saved));
  }
  return Ok{};
}

}  // namespace memopt
