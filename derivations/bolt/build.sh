# Opt-in: BOLT post-link optimisation of the isolate (code layout from a profile of a
# training run), by hand as CPython 3.12's --enable-bolt does it, in instrumentation
# mode (no hardware branch records are needed: perf has none here).
#
#   isolate (linked with -Wl,--emit-relocs) --llvm-bolt -instrument--> isolate.instr
#   isolate.instr runs train.py: the bench workloads and every sample  --> *.fdata
#   merge_fdata.py sums the per-process profiles                         --> profile.fdata
#   llvm-bolt -data=profile.fdata (reorder blocks and functions, split cold code) --> $out/bin/isolate
#
# Run by slime's builder as `/bin/sh -e <src>/build.sh` (src: this directory). Env:
#   isolate    the isolate to optimise, linked with --emit-relocs (linkArgs of the isolate derivation)
#   python     its CPython (runs merge_fdata.py; train.py runs under the instrumented isolate)
#   samples    the samples/ directory; workloads: bench/workloads/
#   out, NIX_BUILD_TOP from the builder
# Output: $out/bin/isolate, and $out/share/bolt/profile.fdata, the profile used (kept so
# that a later build can be pinned to it, as the reproducibility issue asks of PGO).

: "${isolate:?env isolate (the isolate linked with --emit-relocs) is not set: the derivation must pass it}"
: "${python:?env python (the CPython store path) is not set: the derivation must pass it}"
: "${samples:?env samples (the samples/ directory) is not set: the derivation must pass it}"
: "${workloads:?env workloads (bench/workloads/) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

here=$(dirname "$0")
bin="$isolate/bin/isolate"
if ! readelf -S "$bin" | grep -q '\.rela\.text'; then
  echo "slime-bolt: error: $bin has no .rela.text: it was not linked with -Wl,--emit-relocs; build the isolate with linkArgs=-Wl,--emit-relocs" >&2
  exit 2
fi

# BOLT looks for its instrumentation runtime in ../lib of the directory it was run
# from: run the real binary, not the builder's link to it.
bolt=$(readlink -f "$(command -v llvm-bolt-19)")
if [ ! -f "$(dirname "$bolt")/../lib/libbolt_rt_instr.a" ]; then
  echo "slime-bolt: error: $(dirname "$bolt")/../lib/libbolt_rt_instr.a does not exist; install Debian's bolt-19 (the setup does)" >&2
  exit 2
fi

cd "$NIX_BUILD_TOP"
mkdir -p profile home
echo "slime: phase instrument"
# BOLT 19 cannot instrument functions that dispatch by computed goto (CPython's
# interpreter loop and sre's matchers: "unable to get new address corresponding to
# input address", in instrumentation and in optimisation alike); they are left as
# they are, everything else is laid out anew.
skip=_PyEval_EvalFrameDefault,sre_ucs1_match/1,sre_ucs2_match/1,sre_ucs4_match/1,sre_ucs1_match/2,sre_ucs2_match/2,sre_ucs4_match/2
"$bolt" "$bin" -o isolate.instr -instrument -skip-funcs="$skip" \
  -instrumentation-file="$NIX_BUILD_TOP/profile/isolate.fdata" -instrumentation-file-append-pid

echo "slime: phase train"
PYTHONHASHSEED=0 HOME="$NIX_BUILD_TOP/home" ./isolate.instr "$here/train.py" "$samples" "$workloads" "$NIX_BUILD_TOP/train"

echo "slime: phase merge"
"$python/bin/python3.11" "$here/merge_fdata.py" profile/*.fdata > profile.fdata

echo "slime: phase optimize"
mkdir -p "$out/bin" "$out/share/bolt"
"$bolt" "$bin" -o "$out/bin/isolate" -data=profile.fdata -skip-funcs="$skip" \
  -reorder-blocks=ext-tsp -reorder-functions=cdsort -split-functions -split-all-cold -split-eh \
  -icf=1 -use-gnu-stack -dyno-stats
cp profile.fdata "$out/share/bolt/profile.fdata"
