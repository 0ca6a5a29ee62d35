# Cross-builds CPython 3.11 for wasm32-wasi into $out: bin/python.wasm and the
# standard library with its pycs.
#
# Run by slime's builder as `/bin/sh -e build.sh`; the env contract (src,
# buildPython, steps, out, NIX_BUILD_TOP, NIX_BUILD_CORES and the host tools on PATH:
# clang, wasm-ld, llvm-ar, llvm-ranlib) is documented in derivations/README.md.
# The C library is Debian's wasi-libc (/usr/include/wasm32-wasi,
# /usr/lib/wasm32-wasi) and clang's wasm32 builtins (libclang-rt-14-dev-wasm32).

: "${src:?env src (the Python-3.11.x.tgz source tarball) is not set: the derivation must pass it}"
: "${buildPython:?env buildPython (a native CPython of the same version, an install prefix) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${NIX_BUILD_CORES:=1}"
: "${wasiInclude:=/usr/include/wasm32-wasi}"
: "${wasiLib:=/usr/lib/wasm32-wasi}"
# shellcheck source=derivations/cpython/steps.sh
. "${steps:?env steps (derivations/cpython/steps.sh) is not set: the derivation must pass it}"

# As in cpython/build.sh: marshalled frozensets follow the string hash order.
export PYTHONHASHSEED=0

build_python=
for candidate in "$buildPython"/bin/python3.[0-9] "$buildPython"/bin/python3.[0-9][0-9]; do
  if [ -x "$candidate" ]; then build_python=$candidate; fi
done
if [ -z "$build_python" ]; then
  echo "slime: error: $buildPython/bin holds no python3.N; buildPython must be a native CPython install prefix" >&2
  exit 1
fi
for f in "$wasiInclude/stdio.h" "$wasiLib/libc.a" "$wasiLib/crt1-command.o"; do
  if [ ! -f "$f" ]; then
    echo "slime: error: $f is missing: install Debian's wasi-libc (npm run setup does)" >&2
    exit 1
  fi
done

cpython_unpack

echo "slime: phase configure"
# clang-14 looks for the WASI headers and libraries as <sysroot>/include/wasm32-wasi
# and <sysroot>/lib/wasm32-wasi; with the default sysroot (/) it would also search
# the host's /usr/include. A private sysroot holds only the two links.
sysroot=$NIX_BUILD_TOP/wasi-sysroot
mkdir -p "$sysroot/include" "$sysroot/lib"
ln -s "$wasiInclude" "$sysroot/include/wasm32-wasi"
ln -s "$wasiLib" "$sysroot/lib/wasm32-wasi"

# The build machine's triple, guessed before CC names the cross compiler
# (config.guess would otherwise ask clang, which answers wasm32).
build_triple=$(./config.guess)

# CPython's own answers for what a cross build cannot test, plus clock_nanosleep:
# Node's WASI ignores TIMER_ABSTIME, so time.sleep() on it would never return;
# without clock_nanosleep CPython sleeps with select()/nanosleep instead.
config_site=$NIX_BUILD_TOP/config.site
cp Tools/wasm/config.site-wasm32-wasi "$config_site"
chmod u+w "$config_site"
printf '%s\n' 'ac_cv_func_clock_nanosleep=no' 'ac_cv_lib_rt_clock_nanosleep=no' >>"$config_site"
# A cross build cannot run configure's alignment test and assumes aligned access is
# required, which selects the FNV string hash. wasm loads and stores may be unaligned:
# with this python.wasm hashes strings with python3.11's siphash13, truncated to its
# 32-bit Py_hash_t, so the low bits, and with them the iteration order of a set of
# strings, are python3.11's (for a given PYTHONHASHSEED).
printf '%s\n' 'ac_cv_aligned_required=no' >>"$config_site"
# wasi-libc lacks realpath() (its <stdlib.h> hides the declaration: "WASI has no
# absolute paths"): slime_wasi_realpath.c (below) provides it, so that sys.path[0] is
# the script's absolute directory as in python3.11. Its one caller, fileutils.c, gets
# the declaration as its first line.
printf '%s\n' 'ac_cv_func_realpath=yes' >>"$config_site"
if [ "$(grep -c '= realpath(' Python/fileutils.c)" != 1 ]; then
  echo "slime: error: Python/fileutils.c should call realpath() exactly once; update the realpath declaration in derivations/cpython-wasi/build.sh" >&2
  exit 1
fi
sed -i '1i char *realpath(const char *path, char *resolved); /* slime: derivations/cpython-wasi/slime_wasi_realpath.c */' Python/fileutils.c
export CONFIG_SITE=$config_site

export CC="clang --target=wasm32-wasi --sysroot=$sysroot"
export CPP="clang --target=wasm32-wasi --sysroot=$sysroot -E"
export LDSHARED=wasm-ld AR=llvm-ar RANLIB=llvm-ranlib
# pkg-config must not offer the host's libraries (zlib, ffi, ...) to a wasm build.
export PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=$sysroot/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$sysroot

# python3.11's recursion limit, 1000, instead of CPython's 600 for WASI (chosen for
# wasmtime's default 512 KiB wasm stack and a 512 KiB C stack): python.wasm gets the
# 8 MiB C stack of a native main thread (LINKFORSHARED below) and the launchers give
# the runtime a wasm stack to match (derivations/light/launcher.sh).
./configure --prefix="$out" --host=wasm32-unknown-wasi --build="$build_triple" \
  --with-build-python="$build_python" --with-ensurepip=no --disable-test-modules \
  CFLAGS_NODIST="-DPy_DEFAULT_RECURSION_LIMIT=1000"

cpython_unchecked_hash_pycs

# clang 14 ignores SOURCE_DATE_EPOCH: getbuildinfo.c's __DATE__ and __TIME__ (in
# sys.version) would be the time of the build. CPython takes DATE and TIME macros
# instead when they are defined; these are what gcc prints for SOURCE_DATE_EPOCH.
if ! grep -q '^	      -DGITVERSION=' Makefile; then
  echo "slime: error: the generated Makefile has no getbuildinfo.o rule with -DGITVERSION; update derivations/cpython-wasi/build.sh" >&2
  exit 1
fi
sed -i 's|^	      -DGITVERSION=|	      -DDATE="\\"Jan  1 1980\\"" -DTIME="\\"00:00:00\\"" -DGITVERSION=|' Makefile

# The two additions to CPython's own code, linked into python.wasm through
# LINKFORSHARED, which CPython leaves empty for WASI: start in the launcher's
# directory (slime_wasi_cwd.c beside this script) and realpath() (slime_wasi_realpath.c).
# The objects sit in the source tree and are named relative to it, so no build
# directory path reaches the installed Makefile.
# The same link options raise the C stack (CPython's configure gives 512 KiB, first in
# memory: an overflow traps instead of overwriting data) to 8 MiB, and the initial
# memory to hold it; wasm-ld takes the last value of each.
here=$(dirname "$0")
for c in slime_wasi_cwd.c slime_wasi_realpath.c; do
  if [ ! -f "$here/$c" ]; then
    echo "slime: error: $c is not beside $0; add the whole derivations/cpython-wasi directory as the source" >&2
    exit 1
  fi
  # $CC is the compiler and its target flags: split on spaces on purpose.
  # shellcheck disable=SC2086
  $CC -O2 -c "$here/$c" -o "Modules/${c%.c}.o"
done
if ! grep -q '^LINKFORSHARED=[[:space:]]*$' Makefile; then
  echo "slime: error: the generated Makefile's LINKFORSHARED is not empty: $(grep '^LINKFORSHARED=' Makefile);" \
    "update derivations/cpython-wasi/build.sh" >&2
  exit 1
fi
if ! grep -q -- '-z stack-size=524288 -Wl,--stack-first -Wl,--initial-memory=10485760' Makefile; then
  echo "slime: error: the generated Makefile does not set CPython's WASI stack (-z stack-size=524288 ... --initial-memory=10485760);" \
    "update the stack options in derivations/cpython-wasi/build.sh" >&2
  exit 1
fi
sed -i 's|^LINKFORSHARED=.*|LINKFORSHARED=Modules/slime_wasi_cwd.o Modules/slime_wasi_realpath.o -Wl,-z,stack-size=8388608 -Wl,--initial-memory=16777216|' Makefile

echo "slime: phase make"
make -j"$NIX_BUILD_CORES"

echo "slime: phase install"
make altinstall
wasm=$out/bin/python3.11.wasm
if [ ! -f "$wasm" ]; then
  echo "slime: error: make altinstall left no $wasm" >&2
  exit 1
fi
mv "$wasm" "$out/bin/python.wasm"
# What make altinstall adds that cannot run or serve here: scripts whose #! names a
# bin/python3.11 this prefix does not have, python3.11-config (the cross compiler's
# flags), and the 100 MB wasm32 libpython3.11.a that python.wasm already contains.
rm -f "$out/bin/python3.11-config" "$out/bin/2to3-3.11" "$out/bin/idle3.11" "$out/bin/pydoc3.11" "$out/lib/libpython3.11.a"
