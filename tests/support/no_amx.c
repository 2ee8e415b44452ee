/* libmemopt_no_amx.so, preloaded (LD_PRELOAD) into the tests that compare
 * the estimator with llama.cpp's own byte figures (tests/estimate_accuracy.cmake).
 *
 * On a CPU with AMX (Intel Sapphire Rapids and later), node-llama-cpp's
 * llama.cpp loads its sapphirerapids CPU backend, which puts CPU-resident
 * quantized weights in an "AMX" buffer with a repacked layout: the weights
 * llama.cpp reports then differ from the file's tensor sizes (+73728 B on
 * the tiny gemma2 model) and some graphs stop at a GGML_ASSERT in the
 * scheduler. The estimator sizes the file's tensors as every GPU backend and
 * every other CPU backend hold them, so the ground truth is taken on that
 * path: ggml asks the kernel for AMX tile state with
 * syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), and
 * here that request alone is refused (EPERM), as on a kernel without AMX
 * support; ggml then prints "AMX is not ready to be used!" and uses its
 * generic CPU buffers. Every other syscall() goes through unchanged. On a
 * CPU without AMX nothing changes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

#define MEMOPT_ARCH_REQ_XCOMP_PERM 0x1023

long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (int i = 0; i < 6; ++i) a[i] = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_arch_prctl && a[0] == MEMOPT_ARCH_REQ_XCOMP_PERM) {
    errno = EPERM;
    return -1;
  }
  static long (*real)(long, ...) = 0;
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
