/*
 * A self-check for scripts/asan/run.sh: loaded into node the same way as the
 * addon (process.dlopen, ASan runtime preloaded), it leaks one block at load
 * time. If LeakSanitizer does not report its 4321 bytes at exit, the setup is
 * not catching leaks and a clean run would prove nothing.
 */
#include <stdlib.h>
#include <string.h>

void *volatile canary_sink;

__attribute__((noinline)) static void canary_leak(void) {
  char *p = malloc(4321);
  memset(p, 1, 4321);
  canary_sink = p;
  canary_sink = NULL; /* the only pointer is gone: a leak */
}

__attribute__((constructor)) static void canary_load(void) { canary_leak(); }
