# Builder of the cpython-tests derivation: runs run_tests.py, which sits beside this
# script, under the CPython the isolate embeds, and leaves report.json and report.txt
# in $out.
#
# Run by slime's builder as `/bin/sh -e <src>/build.sh`, where src is this whole
# directory added as a source (run_tests.py and the selection files are beside it).
# Env contract:
#   python         store path of the static CPython (runs $python/bin/python3.11)
#   isolate        store path of the isolate (runs $isolate/bin/isolate)
#   selection      file name, in this directory, of the test modules to run (quick.txt, all.txt)
#   out            set by slime: where the reports go
#   NIX_BUILD_TOP  set by slime: the build directory; the runs happen in tests-work/
#   NIX_BUILD_CORES set by slime: how many modules run at once
#   testTimeout    optional: seconds one module's run may take (default 600)
# Progress lines, the report format and the exit status are run_tests.py's: see its
# header. Use `phases: 'cpython-tests'` so src/builder/phases/cpython-tests.ts reads them.

: "${python:?env python (the CPython store path) is not set: the derivation must pass it}"
: "${isolate:?env isolate (the isolate store path) is not set: the derivation must pass it}"
: "${selection:?env selection (quick.txt or all.txt, beside this script) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"
: "${NIX_BUILD_CORES:=1}"

here=$(dirname "$0")
if [ ! -f "$here/run_tests.py" ] || [ ! -f "$here/$selection" ]; then
  echo "slime-cpython-tests: error: run_tests.py or $selection is not beside $0; add the whole derivations/cpython-tests directory as the source" >&2
  exit 2
fi

exec "$python/bin/python3.11" "$here/run_tests.py" \
  --python "$python" --isolate "$isolate" --selection "$here/$selection" --out "$out" \
  --expected-differences "$here/expected-differences.txt" \
  --work "$NIX_BUILD_TOP/tests-work" --jobs "$NIX_BUILD_CORES" --timeout "${testTimeout:-600}"
