#pragma once
// No passwd database on Windows: getpwuid_r finds no entry, so callers use
// their environment variables (the Windows state directory is
// %LOCALAPPDATA%) or say plainly that there is no home.
#include <errno.h>
#include <stddef.h>

struct passwd {
  char* pw_name;
  char* pw_dir;
};

inline int getpwuid_r(unsigned /*uid*/, struct passwd* /*pw*/, char* /*buf*/, size_t /*len*/,
                      struct passwd** result) {
  *result = nullptr;
  return 0;
}
