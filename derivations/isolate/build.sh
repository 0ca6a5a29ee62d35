# Builds the isolate binary offline from the vendored crates and installs it
# as $out/bin/isolate.
#
# Run by slime's builder as `/bin/sh -e build.sh`; env contract (python,
# pyo3Config, vendor, src, and the host tools on PATH) in derivations/README.md.

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

# Read by src/builder/phases/cargo.ts: the number of packages in the lock file
# (the isolate included) is the number of "Compiling" lines to expect.
echo "slime: $(grep -c '^\[\[package\]\]' "$crate/Cargo.lock") crates"

export SLIME_PYTHON="$python"
export PYO3_CONFIG_FILE="$pyo3Config"
export CARGO_INCREMENTAL=0
export CARGO_BUILD_JOBS="$NIX_BUILD_CORES"
# The build directory and the vendor store path would otherwise be embedded in
# panic locations and debug info: the first differs per derivation, the second
# would make the binary look like it depends on the vendored sources at run time.
export RUSTFLAGS="--remap-path-prefix=$NIX_BUILD_TOP=/build --remap-path-prefix=$vendor=/vendor"

cd "$crate"
# -v prints each rustc command line: src/builder/phases/cargo.ts recognises the
# final link (the rustc run for the `isolate` bin) from it.
cargo build --release --offline --frozen -v

mkdir -p "$out/bin"
cp target/release/isolate "$out/bin/isolate"
