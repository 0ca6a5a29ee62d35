/*
 * Linked into python.wasm by derivations/cpython-wasi/build.sh.
 *
 * A WASI (preview 1) process has no inherited working directory: wasi-libc starts
 * every program in "/", so `python.wasm dir/script.py` would look for /dir/script.py
 * and print tracebacks with paths that differ from python3.11's. slime's launchers
 * pass the directory they were started in as SLIME_WASI_CWD (a preopened directory
 * under the same path); this constructor enters it before main() and removes the
 * variable, so the program sees the cwd and the environment a native process would.
 * Without the variable nothing changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void slime_wasi_cwd(void) {
  const char *dir = getenv("SLIME_WASI_CWD");
  if (dir == NULL) return;
  if (chdir(dir) != 0) {
    fprintf(stderr, "python.wasm: cannot enter SLIME_WASI_CWD=%s: %s; the launcher must preopen that directory under the same path\n",
            dir, strerror(errno));
    exit(2);
  }
  unsetenv("SLIME_WASI_CWD");
}
