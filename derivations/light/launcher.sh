# Writes $out/bin/python3.11: a launcher that runs a Light tier interpreter (CPython's
# python.wasm or its precompiled .cwasm, RustPython's .wasm/.cwasm, or RustPython's
# native binary) with python3.11's command line, so that it can be used, verified and
# timed exactly like a native python3.11.
#
# Run by slime's builder as `/bin/sh -e <src>/launcher.sh` (src: this directory).
# Env contract:
#   runtime   wasmtime | node | native
#   module    what to run: a .wasm, or for wasmtime a .cwasm from `wasmtime compile`;
#             for native, the program
#   python    optional: store path of a prefix the module reads at run time (the
#             wasm32-wasi CPython: its stdlib is preopened under the same path, which
#             python.wasm has compiled in); RustPython has its stdlib frozen in
#   wasmStack (wasmtime, node) bytes of stack the runtime gives wasm code (wasmtime's
#             default, 512 KiB, is less than a native main thread's 8 MiB)
#   wasmtime  (runtime wasmtime) store path of the wasmtime runtime
#   node      (runtime node) absolute path of node (a declared host tool)
#   runnerLabel  the runner's name, for readers of the .drv (slime bench); unused here
#   out       set by slime
# Host tools: cat chmod cp mkdir dirname.
#
# What the guest may touch: the prefix and the directory the launcher was started in
# (both under their host paths), the inherited environment, stdin/out/err.
# wasmtime runs with -C cache=n: a .wasm is compiled on every start (what "without
# AOT" means), never from a cache in the user's home that a first run filled.
# The working directory is passed as SLIME_WASI_CWD, which the module enters before
# main() (derivations/cpython-wasi/slime_wasi_cwd.c, linked into both interpreters).
# wasmtime is a sandbox: nothing else of the host is reachable. Node's WASI is NOT a
# sandbox (Node's documentation says so): use it to show portability, not to contain
# code. The native runner is not a sandbox either.

: "${runtime:?env runtime (wasmtime, node or native) is not set: the derivation must pass it}"
: "${module:?env module (the .wasm or .cwasm to run, or the program) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"

here=$(dirname "$0")
mkdir -p "$out/bin"
launcher=$out/bin/python3.11
case $runtime in
  wasmtime)
    : "${wasmtime:?env wasmtime (the wasmtime store path) is not set: a wasmtime launcher needs it}"
    : "${wasmStack:?env wasmStack (bytes of wasm stack) is not set: a wasmtime launcher needs it}"
    precompiled=
    case $module in *.cwasm) precompiled=--allow-precompiled ;; esac
    cat >"$launcher" <<LAUNCHER
#!/bin/sh
# python3.11 (wasm32-wasi) under wasmtime: $module
cwd=\$(pwd -P)
exec $wasmtime/bin/wasmtime run $precompiled -C cache=n -W max-wasm-stack=$wasmStack -S inherit-env --env SLIME_WASI_CWD="\$cwd" \\
  ${python:+--dir $python }--dir "\$cwd" $module "\$@"
LAUNCHER
    ;;
  node)
    : "${node:?env node (the path of node) is not set: a node launcher needs it}"
    : "${wasmStack:?env wasmStack (bytes of wasm stack) is not set: a node launcher needs it}"
    mkdir -p "$out/lib"
    cp "$here/wasi-run.mjs" "$out/lib/wasi-run.mjs"
    cat >"$launcher" <<LAUNCHER
#!/bin/sh
# python3.11 (wasm32-wasi) under Node's node:wasi (not a sandbox): $module
exec $node --no-warnings $out/lib/wasi-run.mjs $wasmStack "${python:-}" $module "\$@"
LAUNCHER
    ;;
  native)
    cat >"$launcher" <<LAUNCHER
#!/bin/sh
# python3.11's command line for a native interpreter: $module
exec $module "\$@"
LAUNCHER
    ;;
  *)
    echo "slime: error: runtime must be wasmtime, node or native, got '$runtime'" >&2
    exit 1
    ;;
esac
chmod 0555 "$launcher"
