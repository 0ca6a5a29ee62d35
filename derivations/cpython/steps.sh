# The steps every CPython build here takes alike, as shell functions: sourced
# (`. "$steps"`) by cpython/build.sh, cpython/pgo.sh (both stages) and
# cpython-wasi/build.sh, which each pass this file as the env `steps`. Run under
# `/bin/sh -e`: a failing command stops the build.

# The tarball $src unpacked in $NIX_BUILD_TOP; leaves the shell in its source directory.
cpython_unpack() {
  echo "slime: phase unpack"
  cd "$NIX_BUILD_TOP"
  tar -xzf "$src"
  cd Python-3.11.*/
}

# CPython's source patches, in the order derivations/index.ts lists them (what each
# does: its header and the comment there).
cpython_patch() {
  for p in ${patches:?env patches is not set: the derivation must pass derivations/cpython/*.patch}; do
    patch -p1 --no-backup-if-mismatch --quiet < "$p"
  done
}

# The native static configure, with the derivation's $configureFlags.
# ac_cv_broken_nice=no: configure's run test for a broken nice() calls nice(1) and
# nice(2) and compares; in a builder that already runs at nice 19 both return 19, so
# the answer (HAVE_BROKEN_NICE, and with it pyconfig.h, sysconfig and posixmodule.o)
# depended on the niceness of whoever started the build: `slime check` under
# `nice -n 19` found 8 files differing. Linux's nice() is not broken.
cpython_configure_static() {
  echo "slime: phase configure"
  # $configureFlags is a list of flags: split on spaces on purpose.
  # shellcheck disable=SC2086
  ./configure --prefix="$out" --disable-shared --with-ensurepip=no ac_cv_broken_nice=no $configureFlags
}

# Unchecked-hash pycs, set in the configured Makefile. The installed stdlib is
# immutable and its paths are rewritten from the temporary $out to the final store
# path after the build. Timestamp pycs would go stale as soon as the store normalises
# mtimes, and checked-hash pycs of the few sources that contain $out (the sysconfig
# data) would mismatch after the rewrite; unchecked-hash pycs are valid in both cases
# and are deterministic.
cpython_unchecked_hash_pycs() {
  expected=6
  found=$(grep -c 'compileall.py \\$' Makefile)
  if [ "$found" != "$expected" ]; then
    echo "slime: error: expected $expected compileall invocations in the generated Makefile, found $found;" \
      "this CPython's install rules changed: update cpython_unchecked_hash_pycs in derivations/cpython/steps.sh" >&2
    exit 1
  fi
  sed -i 's|compileall.py \\$|compileall.py --invalidation-mode unchecked-hash \\|' Makefile
}
