# Compiles a WebAssembly module ahead of time with `wasmtime compile`, so that a
# run starts without paying Cranelift's JIT: $out/<name>.cwasm.
#
# Run by slime's builder as `/bin/sh -e compile.sh`. Env contract:
#   wasmtime      store path of the wasmtime runtime (runs $wasmtime/bin/wasmtime)
#   module        the .wasm file to compile (a path inside a store path)
#   cwasmName     the output file's name (e.g. python.cwasm)
#   compileFlags  extra `wasmtime compile` flags, split on spaces (the target and its
#                 CPU features: a .cwasm runs only under the same wasmtime version, on
#                 a CPU that has every feature it was compiled for)
#   out           set by slime; a directory
# Host tools: mkdir. `-C cache=n`: nothing is written under $HOME, which a build
# does not have.

: "${wasmtime:?env wasmtime (the wasmtime store path) is not set: the derivation must pass it}"
: "${module:?env module (the .wasm file) is not set: the derivation must pass it}"
: "${cwasmName:?env cwasmName is not set: the derivation must pass it}"
: "${out:?env out is not set: slime sets it to the output path}"

mkdir -p "$out"
# $compileFlags is a list of flags: split on spaces on purpose.
# shellcheck disable=SC2086
"$wasmtime/bin/wasmtime" compile -C cache=n $compileFlags -o "$out/$cwasmName" "$module"
