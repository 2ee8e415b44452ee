#pragma once
// dlopen/dlsym/dlclose over LoadLibrary/GetProcAddress/FreeLibrary, for the
// run-time loaded vendor libraries (nvml.dll). dlerror() names the Win32
// error of the last failed call on this thread.
#include <windows.h>

#include <cstdio>
#include <cstring>

#define RTLD_LAZY 0x1
#define RTLD_NOW 0x2
#define RTLD_LOCAL 0x0
#define RTLD_GLOBAL 0x100

namespace memopt_posix {
inline thread_local DWORD dl_last_error = 0;
inline thread_local char dl_message[128];
}  // namespace memopt_posix

inline void* dlopen(const char* file, int /*mode*/) {
  // LOAD_LIBRARY_SEARCH_DEFAULT_DIRS: System32 and the application's folder,
  // never the current directory (DLL planting).
  HMODULE h = LoadLibraryExA(file, nullptr, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS);
  if (h == nullptr && std::strchr(file, '\\') != nullptr) h = LoadLibraryA(file);
  memopt_posix::dl_last_error = h ? 0 : GetLastError();
  return reinterpret_cast<void*>(h);
}

inline void* dlsym(void* handle, const char* symbol) {
  FARPROC p = GetProcAddress(reinterpret_cast<HMODULE>(handle), symbol);
  memopt_posix::dl_last_error = p ? 0 : GetLastError();
  return reinterpret_cast<void*>(p);
}

inline int dlclose(void* handle) { return FreeLibrary(reinterpret_cast<HMODULE>(handle)) ? 0 : -1; }

inline const char* dlerror() {
  if (memopt_posix::dl_last_error == 0) return nullptr;
  std::snprintf(memopt_posix::dl_message, sizeof memopt_posix::dl_message, "Windows error %lu",
                static_cast<unsigned long>(memopt_posix::dl_last_error));
  memopt_posix::dl_last_error = 0;
  return memopt_posix::dl_message;
}
