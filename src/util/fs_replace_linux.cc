// replace_file (util/fs_write.h) on POSIX systems: rename(2) is atomic and
// replaces an existing target.
#include <cstdio>

#include "util/fs_write.h"

namespace memopt {

bool replace_file(const std::string &from, const std::string &to) {
  return std::rename(from.c_str(), to.c_str()) == 0;
}

}  // namespace memopt
