# Builds the isolate binary offline from the vendored crates and installs it
# as $out/bin/isolate.
#
# Run by slime's builder as `/bin/sh -e build.sh`; env contract (python,
# pyo3Config, vendor, src, and the host tools on PATH) in derivations/README.md;
# optional linkArgs (opt-in variants) below.

: "${python:?env python (the static CPython store path) is not set: the derivation must pass it}"
: "${pyo3Config:?env pyo3Config (the PYO3_CONFIG_FILE built by derivations/pyo3/config.sh) is not set}"
: "${vendor:?env vendor (the crates vendored by derivations/isolate/vendor.sh) is not set}"
: "${src:?env src (the isolate crate source directory) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${NIX_BUILD_CORES:=1}"

crate="$NIX_BUILD_TOP/crate"
# cargo writes target/ next to the manifest: it needs a writable copy.
cp -R "$src" "$crate"
chmod -R u+w "$crate"

export CARGO_HOME="$NIX_BUILD_TOP/cargo-home"
mkdir -p "$crate/.cargo"
cat > "$crate/.cargo/config.toml" <<CONFIG
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "$vendor"
CONFIG

cd "$crate"
# Read by src/builder/phases/cargo.ts: the number of "Compiling" lines to
# expect, i.e. the packages this platform's build compiles, the isolate
# included. Not Cargo.lock's count: the lock also holds packages for other
# targets (portable-atomic, for platforms without 64-bit atomics).
cargo tree --offline --frozen --edges normal,build --prefix none --format '{p}' > "$NIX_BUILD_TOP/packages.txt"
echo "slime: $(sed 's/ (\*)$//' "$NIX_BUILD_TOP/packages.txt" | sort -u | wc -l) crates"

export SLIME_PYTHON="$python"
export PYO3_CONFIG_FILE="$pyo3Config"
export CARGO_INCREMENTAL=0
export CARGO_BUILD_JOBS="$NIX_BUILD_CORES"
# The build directory and the vendor store path would otherwise be embedded in
# panic locations and debug info: the first differs per derivation, the second
# would make the binary look like it depends on the vendored sources at run time.
#
# -Clinker-features=-lld: link with the system's GNU ld, as CPython linked its
# own python3.11, instead of the rust-lld that rustc uses by default since 1.90.
# lld cannot read GCC's LTO bytecode: against the fat-LTO libpython3.11.a of an
# --with-lto CPython it would silently link the objects' non-LTO code, while
# GNU ld's linker plugin gives the isolate the same whole-program LTO as
# python3.11 (see derivations/README.md for the cost).
export RUSTFLAGS="--remap-path-prefix=$NIX_BUILD_TOP=/build --remap-path-prefix=$vendor=/vendor -Clinker-features=-lld"
# Linker arguments beyond rustc's own, split on spaces: the default isolate packs
# its relative relocations (`-Wl,-z,pack-relative-relocs`, derivations/index.ts says
# why); opt-in variants give theirs (`-Wl,--emit-relocs` for BOLT, `-no-pie`).
for arg in ${linkArgs:-}; do
  RUSTFLAGS="$RUSTFLAGS -Clink-arg=$arg"
done

# -v prints each rustc command line: src/builder/phases/cargo.ts recognises the
# final link (the rustc run for the `isolate` bin) from it.
cargo build --release --offline --frozen -v

mkdir -p "$out/bin"
cp target/release/isolate "$out/bin/isolate"
