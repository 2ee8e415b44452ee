/* Every file the Windows build opens is binary, as on POSIX: without this
 * the CRT's open()/fopen() default to text mode, which writes "\r\n" for
 * every 0x0A byte and stops reading at 0x1A, so a GGUF written or read with
 * open()/read() (the platform-free code's calls) would be corrupted.
 * MinGW-w64's binmode.o is meant to do this but Debian's is empty (no
 * symbol). Linked into every target of the Windows build
 * (cmake/toolchain-mingw64-deps.cmake); stdin/stdout keep the console's
 * text mode. */
#include <fcntl.h>
#include <stdlib.h>

static void __attribute__((constructor)) memopt_binary_files(void) { _fmode = _O_BINARY; }
