# Builds RustPython 0.5.0 (the crate beside this script: its Cargo.lock pins every
# dependency) from vendored crates, offline, into $out/bin/rustpython: natively with
# the project's Rust toolchain, or for wasm32-wasip1 with Debian's rustc-web and
# `-Zbuild-std` (no rustup target is downloadable here).
#
# Run by slime's builder as `/bin/sh -e <src>/build.sh`. Env contract:
#   src        this directory (Cargo.toml, Cargo.lock, src/main.rs)
#   vendor     the crates of Cargo.lock (rustpython-0.5.0-crates, fixed-output)
#   target     empty (native) or wasm32-wasip1
#   stdVendor  (wasm32-wasip1) the standard library's crates (rust-std-crates, fixed-output)
#   wasiLib    (wasm32-wasip1) wasi-libc's libraries (default /usr/lib/wasm32-wasi)
#   wasiInclude (wasm32-wasip1) wasi-libc's headers (default /usr/include/wasm32-wasi)
#   cwdSource  (wasm32-wasip1) slime_wasi_cwd.c (derivations/cpython-wasi): linked in so
#              that the module starts in the launcher's directory, as python.wasm does
#   realpathSource (wasm32-wasip1) slime_wasi_realpath.c (derivations/cpython-wasi):
#              std::fs::canonicalize calls realpath(), which Debian's wasi-libc lacks
#   pthreadSource (wasm32-wasip1) slime_wasi_pthread.c beside this script: the failing
#              thread stubs std::thread::spawn links against (see there)
#   stackSize  (wasm32-wasip1) bytes of linear-memory stack (default 8 MiB, a native
#              main thread's: RustPython recurses on the Rust stack for every Python call)
#   out, NIX_BUILD_TOP, NIX_BUILD_CORES  from the builder
# Host tools: cargo rustc (native: the rustup toolchain's; wasm: Debian's 1.96
# rustc-web/cargo-web), cc (native link, and build scripts in both), clang (wasm: the
# cwd object), wasm-ld-19 (wasm link: rustc 1.96's LLVM 22 objects are too new for
# wasm-ld 14), cp chmod mkdir.

: "${src:?env src (the rustpython crate directory) is not set: the derivation must pass it}"
: "${vendor:?env vendor (the vendored crates) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${NIX_BUILD_CORES:=1}"
: "${target:=}"
: "${wasiLib:=/usr/lib/wasm32-wasi}"
: "${wasiInclude:=/usr/include/wasm32-wasi}"
: "${stackSize:=8388608}"

crate="$NIX_BUILD_TOP/crate"
cp -R "$src" "$crate"
chmod -R u+w "$crate"
export CARGO_HOME="$NIX_BUILD_TOP/cargo-home"
mkdir -p "$crate/.cargo"
cat > "$crate/.cargo/config.toml" <<CONFIG
[source.crates-io]
replace-with = "vendored-sources"

[source.vendored-sources]
directory = "$NIX_BUILD_TOP/all-crates"
CONFIG
# One directory source for the crates of both lock files (versioned names do not clash).
mkdir -p "$NIX_BUILD_TOP/all-crates"
for d in "$vendor"/* ${stdVendor:+"$stdVendor"/*}; do
  ln -sfn "$d" "$NIX_BUILD_TOP/all-crates/$(basename "$d")"
done

export CARGO_INCREMENTAL=0 CARGO_BUILD_JOBS="$NIX_BUILD_CORES"
cd "$crate"
echo "slime: $(grep -c '^name = ' Cargo.lock) crates"
if [ -z "$target" ]; then
  export RUSTFLAGS="--remap-path-prefix=$NIX_BUILD_TOP=/build --remap-path-prefix=$vendor=/vendor"
  cargo build --release --offline --frozen -v
  mkdir -p "$out/bin"
  cp target/release/rustpython "$out/bin/rustpython"
else
  : "${stdVendor:?env stdVendor (the standard library's vendored crates) is not set: a $target build needs it}"
  # -Zbuild-std on a stable compiler, linked with wasm-ld against Debian's wasi-libc.
  : "${cwdSource:?env cwdSource (slime_wasi_cwd.c) is not set: a $target build needs it}"
  : "${realpathSource:?env realpathSource (slime_wasi_realpath.c) is not set: a $target build needs it}"
  : "${pthreadSource:?env pthreadSource (slime_wasi_pthread.c) is not set: a $target build needs it}"
  for f in "$wasiInclude/stdio.h" "$wasiLib/libc.a" "$wasiLib/crt1-command.o"; do
    if [ ! -f "$f" ]; then
      echo "slime: error: $f is missing: install Debian's wasi-libc (npm run setup does)" >&2
      exit 1
    fi
  done
  # clang-14 with a private sysroot of two links, as in cpython-wasi/build.sh.
  sysroot=$NIX_BUILD_TOP/wasi-sysroot
  mkdir -p "$sysroot/include" "$sysroot/lib"
  ln -s "$wasiInclude" "$sysroot/include/wasm32-wasi"
  ln -s "$wasiLib" "$sysroot/lib/wasm32-wasi"
  shims=""
  for c in "$cwdSource" "$realpathSource" "$pthreadSource"; do
    o="$NIX_BUILD_TOP/$(basename "$c" .c).o"
    clang --target=wasm32-wasi --sysroot="$sysroot" -O2 -c "$c" -o "$o"
    shims="$shims -C link-arg=$o"
  done
  export RUSTC_BOOTSTRAP=1
  export RUSTFLAGS="--remap-path-prefix=$NIX_BUILD_TOP=/build -C linker=wasm-ld-19 -C link-self-contained=no -L $wasiLib -C link-arg=$wasiLib/crt1-command.o$shims -C link-arg=-zstack-size=$stackSize"
  cargo build --release --offline --frozen -v -Zbuild-std=std,panic_abort --target "$target"
  mkdir -p "$out/bin"
  cp "target/$target/release/rustpython.wasm" "$out/bin/rustpython.wasm"
fi
