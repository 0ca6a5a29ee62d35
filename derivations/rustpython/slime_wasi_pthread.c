/*
 * Linked into rustpython.wasm by derivations/rustpython/build.sh.
 *
 * The standard library of rustc-web 1.96, built for wasm32-wasip1 with -Zbuild-std,
 * calls pthread_create() and its attribute functions from std::thread::spawn, which
 * newer wasi-libc releases provide as stubs that fail; Debian's wasi-libc
 * (0.0~git20220510, no threads) has none of them, so the link fails. These are those
 * stubs: every attribute call succeeds and does nothing, pthread_create() fails with
 * ENOTSUP, so std::thread::spawn returns an error ("operation not supported"), as it
 * does on a single-threaded wasm32-wasip1 target. RustPython is built without its
 * threading feature: nothing it runs spawns a thread, and a program that imports
 * `threading` and starts one gets that error, which verify-light reports.
 *
 * The signatures are the libc crate's for wasm32-wasip1 (pointers and size_t are i32):
 * wasm-ld checks them, so these match exactly.
 */
#include <errno.h>
#include <stddef.h>

int pthread_attr_init(void *attr) { (void)attr; return 0; }
int pthread_attr_destroy(void *attr) { (void)attr; return 0; }
int pthread_attr_setstacksize(void *attr, size_t size) { (void)attr; (void)size; return 0; }
int pthread_create(void *thread, const void *attr, void *(*start)(void *), void *arg) {
  (void)thread; (void)attr; (void)start; (void)arg;
  return ENOTSUP;
}
int pthread_detach(unsigned long thread) { (void)thread; return 0; }
