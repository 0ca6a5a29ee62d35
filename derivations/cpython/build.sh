# Builds a static (--disable-shared) CPython 3.11 into $out.
#
# Run by slime's builder as `/bin/sh -e build.sh`; the env contract (src,
# configureFlags, out, NIX_BUILD_TOP, NIX_BUILD_CORES, SOURCE_DATE_EPOCH and
# the host tools on PATH) is documented in derivations/README.md.

: "${src:?env src (the Python-3.11.x.tgz source tarball) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${NIX_BUILD_CORES:=1}"

# Marshalled frozensets (pyc constants, the frozen/deep-frozen modules that end
# up inside libpython3.11.a) are written in hash order, so a random string hash
# seed would make every build differ.
export PYTHONHASHSEED=0

echo "slime: phase unpack"
cd "$NIX_BUILD_TOP"
tar -xzf "$src"
cd Python-3.11.*/
# CPython's source patches, in the order derivations/index.ts lists them (what each
# does: its header and the comment there).
for p in ${patches:?env patches is not set: the derivation must pass derivations/cpython/*.patch}; do
  patch -p1 --no-backup-if-mismatch --quiet < "$p"
done

echo "slime: phase configure"
# $configureFlags is a list of flags: split on spaces on purpose.
# shellcheck disable=SC2086
# ac_cv_broken_nice=no: configure's run test for a broken nice() calls nice(1) and
# nice(2) and compares; in a builder that already runs at nice 19 both return 19, so
# the answer (HAVE_BROKEN_NICE, and with it pyconfig.h, sysconfig and posixmodule.o)
# depended on the niceness of whoever started the build: `slime check` under
# `nice -n 19` found 8 files differing. Linux's nice() is not broken.
./configure --prefix="$out" --disable-shared --with-ensurepip=no ac_cv_broken_nice=no $configureFlags

# The installed stdlib is immutable and its paths are rewritten from the
# temporary $out to the final store path after the build. Timestamp pycs would
# go stale as soon as the store normalises mtimes, and checked-hash pycs of the
# few sources that contain $out (the sysconfig data) would mismatch after the
# rewrite; unchecked-hash pycs are valid in both cases and are deterministic.
expected=6
found=$(grep -c 'compileall.py \\$' Makefile)
if [ "$found" != "$expected" ]; then
  echo "slime: error: expected $expected compileall invocations in the generated Makefile, found $found;" \
    "this CPython's install rules changed: update the unchecked-hash substitution in derivations/cpython/build.sh" >&2
  exit 1
fi
sed -i 's|compileall.py \\$|compileall.py --invalidation-mode unchecked-hash \\|' Makefile

echo "slime: phase make"
# CPython's own strict mode: setup.py fails the build when an extension module
# is missing (its -dev package is not installed), failed to compile, or does
# not import, instead of installing a python3.11 without it.
export PYTHONSTRICTEXTENSIONBUILD=1
if ! make -j"$NIX_BUILD_CORES"; then
  echo "slime: error: make failed. If setup.py's summary above lists modules that were not built," \
    "install the Debian -dev packages derivations/README.md lists for them and build again" >&2
  exit 1
fi

echo "slime: phase install"
make altinstall
