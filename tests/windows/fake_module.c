/* A DLL that does nothing, built under the file names the detector knows
   (DirectML.dll, llama.dll, ggml.dll): loading it is the whole signal, as
   with the real libraries, which these tests do not ship. */
#include <windows.h>

__declspec(dllexport) int memopt_fake_module(void) { return 42; }

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved) {
  (void)instance;
  (void)reason;
  (void)reserved;
  return TRUE;
}
