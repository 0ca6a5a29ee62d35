# Writes $out/bin/python3.11: a launcher that runs CPython's python.wasm (or its
# precompiled .cwasm) under a WASI runtime with python3.11's command line, so that
# it can be used, verified and timed exactly like a native python3.11.
#
# Run by slime's builder as `/bin/sh -e <src>/launcher.sh` (src: this directory).
# Env contract:
#   runtime   wasmtime | node
#   python    store path of the wasm32-wasi CPython (its prefix: the stdlib is
#             preopened under the same path, which python.wasm has compiled in)
#   module    the module to run: a .wasm, or for wasmtime a .cwasm from `wasmtime compile`
#   wasmtime  (runtime wasmtime) store path of the wasmtime runtime
#   node      (runtime node) absolute path of node (a declared host tool)
#   runnerLabel  the runner's name, for readers of the .drv (slime bench); unused here
#   out       set by slime
# Host tools: cat chmod cp mkdir.
#
# What the guest may touch: the CPython prefix and the directory the launcher was
# started in (both under their host paths), the inherited environment, stdin/out/err.
# wasmtime runs with -C cache=n: a .wasm is compiled on every start (what "without
# AOT" means), never from a cache in the user's home that a first run filled.
# The working directory is passed as SLIME_WASI_CWD, which python.wasm enters before
# main() (derivations/cpython-wasi/slime_wasi_cwd.c). wasmtime is a sandbox: nothing
# else of the host is reachable. Node's WASI is NOT a sandbox (Node's documentation
# says so): use it to show portability, not to contain code.

: "${runtime:?env runtime (wasmtime or node) is not set: the derivation must pass it}"
: "${python:?env python (the wasm32-wasi CPython store path) is not set: the derivation must pass it}"
: "${module:?env module (the .wasm or .cwasm to run) is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"

here=$(dirname "$0")
mkdir -p "$out/bin"
launcher=$out/bin/python3.11
case $runtime in
  wasmtime)
    : "${wasmtime:?env wasmtime (the wasmtime store path) is not set: a wasmtime launcher needs it}"
    precompiled=
    case $module in *.cwasm) precompiled=--allow-precompiled ;; esac
    cat >"$launcher" <<LAUNCHER
#!/bin/sh
# python3.11 (wasm32-wasi) under wasmtime: $module
cwd=\$(pwd -P)
exec $wasmtime/bin/wasmtime run $precompiled -C cache=n -S inherit-env --env SLIME_WASI_CWD="\$cwd" \\
  --dir $python --dir "\$cwd" $module "\$@"
LAUNCHER
    ;;
  node)
    : "${node:?env node (the path of node) is not set: a node launcher needs it}"
    mkdir -p "$out/lib"
    cp "$here/wasi-run.mjs" "$out/lib/wasi-run.mjs"
    cat >"$launcher" <<LAUNCHER
#!/bin/sh
# python3.11 (wasm32-wasi) under Node's node:wasi (not a sandbox): $module
exec $node --no-warnings $out/lib/wasi-run.mjs $python $module "\$@"
LAUNCHER
    ;;
  *)
    echo "slime: error: runtime must be wasmtime or node, got '$runtime'" >&2
    exit 1
    ;;
esac
chmod 0555 "$launcher"
