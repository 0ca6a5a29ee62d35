# Fixed-output step: vendors the crates Rust's standard library depends on (its own
# library/Cargo.lock, from Debian's rust-web-src), which `cargo build -Zbuild-std`
# compiles for wasm32-wasip1 and, being offline, must find in a directory source.
#
# Run by slime's builder as `/bin/sh -e vendor-std.sh`. Env contract:
#   library  the standard library's source workspace (Debian: /usr/lib/rustlib/src/rust/library)
#   out, NIX_BUILD_TOP  from the builder
# Host tools: cargo (Debian's cargo-web), cp, chmod.

: "${library:?env library (the Rust standard library source workspace) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

export CARGO_HOME="$NIX_BUILD_TOP/cargo-home"
# A writable copy: cargo vendor reads the whole workspace.
cp -R "$library" "$NIX_BUILD_TOP/library"
chmod -R u+w "$NIX_BUILD_TOP/library"
cd "$NIX_BUILD_TOP/library"
cargo vendor --locked --versioned-dirs "$out" > /dev/null
