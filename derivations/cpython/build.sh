# Builds a static (--disable-shared) CPython 3.11 into $out.
#
# Run by slime's builder as `/bin/sh -e build.sh`; the env contract (src,
# configureFlags, patches, steps, out, NIX_BUILD_TOP, NIX_BUILD_CORES,
# SOURCE_DATE_EPOCH and the host tools on PATH) is documented in
# derivations/README.md.

: "${src:?env src (the Python-3.11.x.tgz source tarball) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${NIX_BUILD_CORES:=1}"
# shellcheck source=derivations/cpython/steps.sh
. "${steps:?env steps (derivations/cpython/steps.sh) is not set: the derivation must pass it}"

# Marshalled frozensets (pyc constants, the frozen/deep-frozen modules that end
# up inside libpython3.11.a) are written in hash order, so a random string hash
# seed would make every build differ.
export PYTHONHASHSEED=0

cpython_unpack
cpython_patch
cpython_configure_static
cpython_unchecked_hash_pycs

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
