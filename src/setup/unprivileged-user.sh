#!/usr/bin/env bash
# Makes a second, unprivileged user (default: slimetest) that can run slime on its own
# store, as test/pipeline-full-quick.test.ts does to show the sandboxed build works for
# a user other than root. Run as root; idempotent.
#
# The one thing such a user lacks here is Rust: rustup installed it under /root, which
# other users cannot enter. The toolchain the machine defaults to is hard-linked (no
# copy, when on one file system) into the user's home, and linked from ~/.cargo/bin,
# where derivations/toolchains.ts looks for rustc.
set -euo pipefail
user="${1:-slimetest}"

if [ "$(id -u)" != 0 ]; then
  echo "error: $0 makes a user and must run as root (sudo $0 $user)" >&2
  exit 1
fi
id -u "$user" >/dev/null 2>&1 || useradd -m "$user"
home="$(getent passwd "$user" | cut -d: -f6)"

sysroot="$(rustc --print sysroot)"
dest="$home/.slime-rust/$(basename "$sysroot")"
if [ ! -x "$dest/bin/rustc" ]; then
  mkdir -p "$home/.slime-rust"
  rm -rf "$dest.tmp"
  cp -al "$sysroot" "$dest.tmp" 2>/dev/null || { rm -rf "$dest.tmp"; cp -a "$sysroot" "$dest.tmp"; }
  mv "$dest.tmp" "$dest"
fi
mkdir -p "$home/.cargo/bin"
for tool in rustc cargo; do ln -sfn "$dest/bin/$tool" "$home/.cargo/bin/$tool"; done
chown "$user:" "$home/.cargo" "$home/.cargo/bin" "$home/.slime-rust"
