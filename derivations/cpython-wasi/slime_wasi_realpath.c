/*
 * Linked into python.wasm by derivations/cpython-wasi/build.sh, which also tells
 * configure that realpath() exists (ac_cv_func_realpath=yes).
 *
 * Debian's wasi-libc (0.0~git20220510) declares realpath() in <stdlib.h> but does not
 * implement it. Without HAVE_REALPATH, CPython leaves sys.path[0] as the script's
 * directory as typed ("." for `python dir/script.py` run from dir's parent: relative,
 * where python3.11 puts the absolute, symlink-free directory) and `python -m` puts
 * "." first instead of the working directory. This is POSIX realpath() on what
 * wasi-libc has: getcwd() (its emulated working directory), lstat() and readlink().
 *
 *   path      := "/"? component ("/" component)*
 *   component := "" | "." | ".." | name
 * A relative path is taken from getcwd(); "" and "." are skipped; ".." drops the last
 * resolved component (the root stays the root); a name is appended and, when it is a
 * symbolic link, replaced by the link's text followed by the rest of the path (an
 * absolute link restarts from "/"), at most SLIME_SYMLOOP_MAX times (ELOOP). Every
 * component followed by a "/" must be a directory (ENOTDIR), every one must exist (ENOENT).
 * With resolved == NULL the result is malloc()ed, as POSIX 2008 allows.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLIME_SYMLOOP_MAX 40

char *realpath(const char *restrict path, char *restrict resolved) {
  if (path == NULL) {
    errno = EINVAL;
    return NULL;
  }
  if (path[0] == '\0') {
    errno = ENOENT;
    return NULL;
  }
  /* out: the resolved prefix, always absolute, no trailing "/" except for the root.
     rest: what is left to resolve (with links spliced in). */
  char out[PATH_MAX], rest[PATH_MAX], link[PATH_MAX];
  size_t n;
  if (path[0] == '/') {
    strcpy(out, "/");
  } else if (getcwd(out, sizeof out) == NULL) {
    return NULL;
  }
  n = strlen(out);
  if (strlen(path) >= sizeof rest) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  strcpy(rest, path);
  int links = 0;
  char *p = rest;
  while (*p != '\0') {
    while (*p == '/') p++;
    char *end = p;
    while (*end != '\0' && *end != '/') end++;
    size_t len = (size_t)(end - p);
    if (len == 0 || (len == 1 && p[0] == '.')) {
      p = end;
      continue;
    }
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (n > 1 && out[n - 1] != '/') n--;
      if (n > 1) n--;
      out[n] = '\0';
      p = end;
      continue;
    }
    size_t base = n;
    if (n + (n > 1) + len >= sizeof out) {
      errno = ENAMETOOLONG;
      return NULL;
    }
    if (n > 1) out[n++] = '/';
    memcpy(out + n, p, len);
    n += len;
    out[n] = '\0';
    p = end;
    struct stat st;
    if (lstat(out, &st) != 0) return NULL;
    if (S_ISLNK(st.st_mode)) {
      if (++links > SLIME_SYMLOOP_MAX) {
        errno = ELOOP;
        return NULL;
      }
      ssize_t k = readlink(out, link, sizeof link - 1);
      if (k < 0) return NULL;
      link[k] = '\0';
      size_t tail = strlen(p);
      if ((size_t)k + tail + 1 >= sizeof rest) {
        errno = ENAMETOOLONG;
        return NULL;
      }
      /* rest := link text + what followed the link (p points into rest). */
      memmove(rest + k, p, tail + 1);
      memcpy(rest, link, (size_t)k);
      p = rest;
      if (link[0] == '/') {
        n = 1;
        out[1] = '\0';
      } else {
        n = base;
        out[n] = '\0';
      }
      continue;
    }
    if (!S_ISDIR(st.st_mode) && *p != '\0') {
      errno = ENOTDIR;
      return NULL;
    }
  }
  if (resolved == NULL) return strdup(out);
  return strcpy(resolved, out);
}
