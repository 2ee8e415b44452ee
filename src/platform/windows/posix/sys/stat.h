#pragma once
// mkdir(path, mode): Windows has no mode bits; the directory inherits the
// ACL of its parent (under %LOCALAPPDATA%, the user's own). S_ISVTX: no
// sticky bit.
#include <direct.h>
#include_next <sys/stat.h>

#ifndef S_ISVTX
#define S_ISVTX 0
#endif

inline int memopt_mkdir_mode(const char* path, unsigned /*mode*/) { return _mkdir(path); }
#define mkdir(path, mode) memopt_mkdir_mode(path, mode)
