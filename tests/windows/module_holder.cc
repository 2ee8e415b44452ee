// module_holder.exe PIDFILE SECONDS DLL...: loads each DLL with LoadLibrary
// (as an AI runtime loads DirectML.dll or ggml.dll), writes its Windows pid
// to PIDFILE once all are loaded, and stays alive SECONDS or until PIDFILE
// is removed, so that `ai detect` can see a process holding those modules.
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: module_holder PIDFILE SECONDS DLL...\n");
    return 2;
  }
  const int seconds = std::atoi(argv[2]);
  for (int i = 3; i < argc; ++i) {
    if (LoadLibraryA(argv[i]) == nullptr) {
      std::fprintf(stderr, "module_holder: cannot load %s (Windows error %lu)\n", argv[i],
                   GetLastError());
      return 1;
    }
  }
  const std::string tmp = std::string(argv[1]) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return 1;
  std::fprintf(f, "%lu\n", GetCurrentProcessId());
  std::fclose(f);
  if (!MoveFileExA(tmp.c_str(), argv[1], MOVEFILE_REPLACE_EXISTING)) return 1;
  for (int t = 0; t < seconds * 10; ++t) {
    if (GetFileAttributesA(argv[1]) == INVALID_FILE_ATTRIBUTES) break;
    Sleep(100);
  }
  return 0;
}
