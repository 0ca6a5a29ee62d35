# Opt-in BOLT, step 1 of 2: the profile. The isolate (linked with -Wl,--emit-relocs) is
# instrumented (llvm-bolt-19 -instrument: no hardware branch records are needed, perf
# has none here), runs train.py (the bench workloads at small sizes and every sample,
# each in its own process, one .fdata per process), and merge_fdata.py sums the
# per-process profiles into $out/profile.fdata.
#
# The counts can depend on the run (objects hashed by address, the garbage collector,
# timing in the samples): this derivation declares itself nondeterministic, and once
# built (or substituted) it is the pinned input of step 2 (build.sh), which is
# deterministic given it, as the PGO profile is for the PGO+LTO CPython.
#
# Run by slime's builder as `/bin/sh -e <src>/profile.sh` (src: this directory). Env:
#   isolate    the isolate to profile, linked with --emit-relocs
#   python     its CPython (runs merge_fdata.py; train.py runs under the instrumented isolate)
#   samples    the samples/ directory; workloads: bench/workloads/
#   out, NIX_BUILD_TOP from the builder

: "${isolate:?env isolate (the isolate linked with --emit-relocs) is not set: the derivation must pass it}"
: "${python:?env python (the CPython store path) is not set: the derivation must pass it}"
: "${samples:?env samples (the samples/ directory) is not set: the derivation must pass it}"
: "${workloads:?env workloads (bench/workloads/) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

here=$(dirname "$0")
. "$here/common.sh"
check_relocs "$isolate/bin/isolate"
bolt=$(find_bolt)

cd "$NIX_BUILD_TOP"
mkdir -p profile home
echo "slime: phase instrument"
"$bolt" "$isolate/bin/isolate" -o isolate.instr -instrument -skip-funcs="$BOLT_SKIP" \
  -instrumentation-file="$NIX_BUILD_TOP/profile/isolate.fdata" -instrumentation-file-append-pid

echo "slime: phase train"
PYTHONHASHSEED=0 HOME="$NIX_BUILD_TOP/home" ./isolate.instr "$here/train.py" "$samples" "$workloads" "$NIX_BUILD_TOP/train"

echo "slime: phase merge"
mkdir -p "$out"
"$python/bin/python3.11" "$here/merge_fdata.py" profile/*.fdata > "$out/profile.fdata"
echo "slime: merged $(ls profile | wc -l) process profiles, $(wc -l < "$out/profile.fdata") lines"
