# Opt-in BOLT, step 2 of 2: post-link optimisation of the isolate (code layout from the
# pinned profile of step 1, profile.sh), by hand as CPython 3.12's --enable-bolt does:
#
#   isolate (linked with -Wl,--emit-relocs) + $profile/profile.fdata
#     --llvm-bolt -reorder-blocks=ext-tsp -reorder-functions=cdsort -split-functions
#       -split-all-cold -split-eh -icf=1 (one thread)--> $out/bin/isolate
#
# Deterministic given the profile: BOLT runs single-threaded (-no-threads), so that the
# order of its parallel passes cannot show in the output.
#
# Run by slime's builder as `/bin/sh -e <src>/build.sh` (src: this directory). Env:
#   isolate    the isolate to optimise, linked with --emit-relocs (the one profiled)
#   profile    the output of profile.sh: profile.fdata
#   out from the builder
# Output: $out/bin/isolate, and $out/share/bolt/profile.fdata, the profile used.

: "${isolate:?env isolate (the isolate linked with --emit-relocs) is not set: the derivation must pass it}"
: "${profile:?env profile (the bolt-profile derivation: profile.fdata) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"

here=$(dirname "$0")
. "$here/common.sh"
check_relocs "$isolate/bin/isolate"
bolt=$(find_bolt)
if [ ! -s "$profile/profile.fdata" ]; then
  echo "slime-bolt: error: $profile/profile.fdata is missing or empty; rebuild the bolt-profile derivation" >&2
  exit 2
fi

echo "slime: phase optimize"
mkdir -p "$out/bin" "$out/share/bolt"
"$bolt" "$isolate/bin/isolate" -o "$out/bin/isolate" -data="$profile/profile.fdata" -skip-funcs="$BOLT_SKIP" \
  -reorder-blocks=ext-tsp -reorder-functions=cdsort -split-functions -split-all-cold -split-eh \
  -icf=1 -use-gnu-stack -no-threads -dyno-stats
cp "$profile/profile.fdata" "$out/share/bolt/profile.fdata"
