# Builds RustPython 0.5.0 for wasm32-wasip1 from patched vendored crates: applies the
# patches beside this script to copies of the crates they name, then runs the shared
# derivations/rustpython/build.sh on a crate directory where those copies replace the
# originals. The native build runs build.sh directly on the unpatched crates, so its
# inputs (and store path) do not depend on these patches.
#
# Layout of $patches (this directory's patches/):
#   patches/<crate>-<version>/<name>.patch   a unified diff, paths relative to the
#                                            crate's root, applied with `patch -p1`;
#                                            text before the first `---` says why
#
# Cargo checks every file listed in a vendored crate's .cargo-checksum.json against its
# sha256: each file a patch changes gets its new sha256 there (the crate's "package"
# checksum, which Cargo.lock pins, is of the .crate archive and stays).
#
# Run by slime's builder as `/bin/sh -e <this>`. Env contract: that of
# derivations/rustpython/build.sh (src is that directory: its build.sh runs next), plus
#   patches    this directory's patches/
# Host tools: patch sha256sum sed, and build.sh's.

: "${src:?env src (the rustpython crate directory) is not set: the derivation must pass it}"
: "${vendor:?env vendor (the vendored crates) is not set: the derivation must pass it}"
: "${patches:?env patches (derivations/rustpython-wasm/patches) is not set: the derivation must pass it}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

patched="$NIX_BUILD_TOP/patched-crates"
mkdir -p "$patched"
for d in "$vendor"/*; do
  ln -s "$d" "$patched/$(basename "$d")"
done
for dir in "$patches"/*/; do
  crate=$(basename "$dir")
  if [ ! -d "$vendor/$crate" ]; then
    echo "slime: error: $dir patches crate $crate, which is not among the vendored crates $vendor: fix the directory name to the crate's name-version" >&2
    exit 1
  fi
  rm "$patched/$crate"
  cp -R "$vendor/$crate" "$patched/$crate"
  chmod -R u+w "$patched/$crate"
  for p in "$dir"*.patch; do
    echo "slime: patching $crate with $(basename "$p")"
    patch -d "$patched/$crate" -p1 --forward --batch --no-backup-if-mismatch < "$p"
    for f in $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"); do
      old=$(sha256sum < "$vendor/$crate/$f" | cut -d' ' -f1)
      new=$(sha256sum < "$patched/$crate/$f" | cut -d' ' -f1)
      sums="$patched/$crate/.cargo-checksum.json"
      if ! grep -q "\"$f\":\"$old\"" "$sums"; then
        echo "slime: error: $sums has no entry \"$f\":\"$old\": the patch $p does not fit this crate's files" >&2
        exit 1
      fi
      sed -i "s|\"$f\":\"$old\"|\"$f\":\"$new\"|" "$sums"
    done
  done
done

export vendor="$patched"
exec sh -e "$src/build.sh"
