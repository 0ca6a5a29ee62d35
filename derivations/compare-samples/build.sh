# Builder of the verify derivation: runs compare.py, which sits beside this script,
# under the CPython being verified, and leaves report.json and report.txt in $out.
#
# Run by slime's builder as `/bin/sh -e <src>/build.sh`, where src is this whole
# directory added as a source (compare.py is found next to build.sh). Env contract:
#   python         store path of the static CPython (runs $python/bin/python3.11, or
#                  the python3.N it holds)
#   isolate        store path of the isolate (runs $isolate/bin/isolate): the Full tier
#   runner         instead of isolate, the Light tier: store path of a launcher
#                  (runs $runner/bin/python3.11, see derivations/light/launcher.sh)
#   runnerLabel    with runner: how the report names it ("CPython-wasi, wasmtime (AOT)")
#   native         optional, with runner: a launcher of the same interpreter built
#                  natively; each sample then records whether the runner did the same
#   nativeLabel    with native: how the report names it
#   samples        store path of the samples/ directory (manifest.json and programs)
#   out            set by slime: where the reports go
#   NIX_BUILD_TOP  set by slime: the build directory; the runs happen in verify-work/
#   verifyTimeout  optional: seconds one sample run may take (default 30)
# Progress lines, the report format, the outcomes and the exit status (0 every sample
# accepted, 1 some not, 2 unusable inputs) are compare.py's: see its header. Use
# `phases: 'sample-comparison'` so src/builder/phases/sample-comparison.ts reads the progress.

: "${python:?env python (the CPython store path) is not set: the verify derivation must pass it}"
if [ -n "${runner:-}" ]; then
  : "${runnerLabel:?env runnerLabel is not set: a Light tier verify derivation must name its runner}"
  set -- --runner "$runner" --runner-label "$runnerLabel"
  if [ -n "${native:-}" ]; then
    : "${nativeLabel:?env nativeLabel is not set: a verify derivation with a native twin must name it}"
    set -- "$@" --native "$native" --native-label "$nativeLabel"
  fi
else
  : "${isolate:?env isolate (the isolate store path) is not set, nor runner (a Light tier launcher): the verify derivation must pass one}"
  set -- --isolate "$isolate"
fi
: "${samples:?env samples (the samples/ directory as a source) is not set: the verify derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

interpreter=
for candidate in "$python"/bin/python3.[0-9] "$python"/bin/python3.[0-9][0-9]; do
  if [ -x "$candidate" ]; then interpreter=$candidate; fi
done
if [ -z "$interpreter" ]; then
  echo "slime-compare: error: $python/bin holds no python3.N; the python input must be a CPython install prefix" >&2
  exit 2
fi

here=$(dirname "$0")
if [ ! -f "$here/compare.py" ]; then
  echo "slime-compare: error: compare.py is not beside $0; add the whole derivations/compare-samples directory as the source and run build.sh from it" >&2
  exit 2
fi

exec "$interpreter" "$here/compare.py" \
  --python "$python" "$@" --samples "$samples" --out "$out" \
  --work "$NIX_BUILD_TOP/verify-work" --timeout "${verifyTimeout:-30}"
