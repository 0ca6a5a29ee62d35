# Fixed-output step: vendors the crates pinned by the committed Cargo.lock into
# $out, the directory source that derivations/isolate/build.sh builds from
# offline. The only step of the isolate that uses the network; the derivation
# pins the NAR hash of $out (like nixpkgs' cargoHash).
#
# Run by slime's builder as `/bin/sh -e vendor.sh`; env contract in
# derivations/README.md.

: "${src:?env src (the isolate crate source directory) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

# cargo's caches (registry index, downloaded .crate files) stay in the build
# directory, never in a $HOME.
export CARGO_HOME="$NIX_BUILD_TOP/cargo-home"

# cargo vendor reads the whole manifest, so it gets a writable copy of the
# crate rather than the read-only store directory.
cp -R "$src" "$NIX_BUILD_TOP/crate"
chmod -R u+w "$NIX_BUILD_TOP/crate"
cd "$NIX_BUILD_TOP/crate"

# --locked: a Cargo.lock that does not match Cargo.toml is an error, not
# something to re-resolve against whatever the registry offers today.
# --versioned-dirs: directory names carry the version, so the layout depends
# on the lock file alone. The config snippet cargo prints is not needed:
# build.sh writes its own.
cargo vendor --locked --versioned-dirs "$out" > /dev/null
