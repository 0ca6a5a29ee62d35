#!/usr/bin/env bash
# Builder of the verify derivation: runs verify.py (beside this script) under the
# CPython being verified. The derivation passes this whole directory as a source and
# runs `bash <source>/build.sh`, with these environment variables:
#   python   store path of the CPython 3.11 build (runs $python/bin/python3.11)
#   isolate  store path of the isolate (runs $isolate/bin/isolate)
#   samples  store path of the samples/ directory (manifest.json and the programs)
#   out      where report.json and report.txt go
# Optional: verifyTimeout, seconds one sample run may take (default 30).
# The runs happen in the build directory (the working directory of the builder), in
# verify-work/. Progress lines and the exit status are verify.py's: see its header.
set -euo pipefail

for var in python isolate samples out; do
  if [ -z "${!var:-}" ]; then
    echo "slime-verify: error: the derivation did not set \$$var; declare it in the verify derivation's env" >&2
    exit 2
  fi
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
exec "$python/bin/python3.11" "$here/verify.py" \
  --python "$python" --isolate "$isolate" --samples "$samples" --out "$out" \
  --work "$PWD/verify-work" --timeout "${verifyTimeout:-30}"
