/**
 * SlimePython's Hybrid Bit-Exact Isolate, Full tier: from the pinned CPython source to
 * a verified isolate (the recipe of the PoC 6 seed report).
 *
 *   source (fixed-output) -> CPython static (quick | pgo-lto) -> PyO3 config
 *   crates (fixed-output cargo vendor) ------------------------> isolate -> verify
 */
import { derivation, fetchFile, source, target, type Derivation } from '../src/derivation/api.js';
import { cTools, rustTools, shellTools } from './toolchains.js';
import { lightTier, rustpython, rustpythonWasm } from './light.js';

const PYTHON_ORG = 'https://www.python.org/ftp/python';

export const cpythonSource311 = fetchFile({
  name: 'Python-3.11.2.tgz',
  sha256: '2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849',
  mirrors: [
    { url: `${PYTHON_ORG}/3.11.2/Python-3.11.2.tgz` },
    // Byte-identical to python.org's tarball; needs a deb-src entry (the setup adds one).
    { aptSource: { package: 'python3.11', file: 'python3.11_3.11.2.orig.tar.gz' } },
  ],
});

/** Declared for machines that reach python.org; here its fetch fails fast, naming the mirror. */
export const cpythonSource312 = fetchFile({
  name: 'Python-3.12.3.tgz',
  sha256: 'a6b9459f45a6ebbbc1af44f5762623fa355a0c87208ed417628b379d762dddb0',
  mirrors: [{ url: `${PYTHON_ORG}/3.12.3/Python-3.12.3.tgz` }],
});

type Variant = 'quick' | 'pgo-lto';

const configureFlags: Record<Variant, string> = {
  quick: '',
  // The seed's production recipe. The profile run and the LTO relink are recognised
  // by the cpython phase reader.
  'pgo-lto': '--enable-optimizations --with-lto',
};

function cpython(src: Derivation, version: string, variant: Variant): Derivation {
  return derivation({
    name: `cpython-${version}-${variant}`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'cpython/build.sh')],
    env: { src, configureFlags: configureFlags[variant] },
    tools: [...shellTools, ...cTools],
    phases: 'cpython',
  });
}

function pyo3Config(python: Derivation): Derivation {
  return derivation({
    name: `${python.name}-pyo3-config`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'pyo3/config.sh')],
    env: { python },
  });
}

const isolateCrate = source(import.meta.url, 'isolate');

/** The crates of the committed Cargo.lock, vendored; the NAR hash is pinned like nixpkgs' cargoHash. */
export const isolateCrates = derivation({
  name: 'isolate-crates',
  builder: 'sh',
  args: ['-e', source(import.meta.url, 'isolate/vendor.sh')],
  env: { src: isolateCrate },
  tools: [...shellTools, ...rustTools()],
  outputHash: { hash: '1q9b5qddv52birw9myyhmcr1wmawagd5df5ksgka7jbjrpvjz2lb', algo: 'sha256', mode: 'recursive' },
});

function isolate(python: Derivation): Derivation {
  return derivation({
    name: `isolate-${python.name.replace(/^cpython-/, '')}`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'isolate/build.sh')],
    env: { python, pyo3Config: pyo3Config(python), vendor: isolateCrates, src: isolateCrate },
    tools: [...shellTools, ...cTools, ...rustTools()],
    phases: 'cargo',
  });
}

const samples = source(import.meta.url, '../samples');

function verify(python: Derivation, iso: Derivation): Derivation {
  return derivation({
    name: `verify-${iso.name}`,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'verify')}/build.sh`],
    env: { python, isolate: iso, samples },
    tools: shellTools,
    phases: 'verify',
  });
}

function fullTier(src: Derivation, version: string, variant: Variant) {
  const python = cpython(src, version, variant);
  const iso = isolate(python);
  return { python, isolate: iso, verification: verify(python, iso) };
}

export const full = fullTier(cpythonSource311, '3.11.2', 'pgo-lto');
export const fullQuick = fullTier(cpythonSource311, '3.11.2', 'quick');
export const full312 = fullTier(cpythonSource312, '3.12.3', 'pgo-lto');

/** The Light tier (derivations/light.ts): the quick CPython is its build python and its reference. */
export const light = lightTier(cpythonSource311, fullQuick.python, '3.11.2');

export const targets = [
  target('full-x86_64', 'Full tier: PGO+LTO static CPython 3.11.2, the isolate, bit-exact verification', [full.isolate, full.verification]),
  target('full-x86_64-quick', 'Full tier on the quick (no PGO/LTO) CPython 3.11.2: the CI build', [fullQuick.isolate, fullQuick.verification]),
  target('full-x86_64-py312', 'Full tier on CPython 3.12.3 (needs python.org; fails fast where it is unreachable)', [full312.isolate, full312.verification]),
  target('cpython-quick', 'The quick static CPython 3.11.2 alone', [fullQuick.python]),
  target('light-wasm32', 'Light tier: CPython 3.11.2 for wasm32-wasi under wasmtime (AOT) and Node, verified against python3.11', [
    light.runners['wasmtime-aot'], light.runners.wasmtime, light.runners.node,
    light.verification['wasmtime-aot'], light.verification.node,
  ]),
  target('light-wasm32-wasmtime', 'Light tier, wasmtime only: CPython 3.11.2 for wasm32-wasi, AOT-compiled, verified (the CI build)', [
    light.runners['wasmtime-aot'], light.verification['wasmtime-aot'],
  ]),
  target('light-rustpython', 'Light tier, opt-in: RustPython 0.5.0 native and for wasm32-wasip1 (declared; the build is not verified yet)', [
    rustpython, rustpythonWasm,
  ]),
];
