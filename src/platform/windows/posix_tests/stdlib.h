#pragma once
// mkdtemp: a fresh directory from a XXXXXX template (_mktemp_s picks the
// name, _mkdir fails when it exists, so a race is retried, not shared).
#include_next <stdlib.h>

#ifdef __cplusplus
#include <direct.h>
#include <errno.h>
#include <string.h>

inline char* mkdtemp(char* tmpl) {
  const size_t n = strlen(tmpl);
  if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX") != 0) {
    errno = EINVAL;
    return nullptr;
  }
  for (int tries = 0; tries < 100; ++tries) {
    memcpy(tmpl + n - 6, "XXXXXX", 6);
    if (_mktemp_s(tmpl, n + 1) != 0) return nullptr;
    if (_mkdir(tmpl) == 0) return tmpl;
    if (errno != EEXIST) return nullptr;
  }
  return nullptr;
}
#endif
