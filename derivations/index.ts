/**
 * SlimePython's Hybrid Bit-Exact Isolate, Full tier: from the pinned CPython source to
 * a verified isolate (the recipe of the PoC 6 seed report).
 *
 *   source (fixed-output) -> CPython static (quick | pgo-lto) -> PyO3 config
 *   crates (fixed-output cargo vendor) ------------------------> isolate -> verify
 *                                                                          \-> cpython-tests
 */
import { createHash } from 'node:crypto';
import { derivation, fetchFile, source, target, type Derivation } from '../src/derivation/api.js';
import { cTools, rustTools, shellTools } from './toolchains.js';
import { lightTier, rustpython, rustpythonTier, rustpythonWasm } from './light.js';

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

type Variant = 'quick' | 'pgo-lto' | 'pgo-lto-v3' | 'pgo-lto-o2' | 'quick-noplt';

const configureFlags: Record<Variant, string> = {
  quick: '',
  // The seed's production recipe. The profile run and the LTO relink are recognised
  // by the cpython phase reader.
  'pgo-lto': '--enable-optimizations --with-lto',
  // Opt-in lever (issue 14): the same, with code for x86-64-v3. Given as CFLAGS to
  // configure (CONFIGURE_CFLAGS), which pgo.sh's CFLAGS_NODIST on make's command line
  // does not override, so both stages compile alike; at the LTO links GCC takes -m
  // flags from the first object that has them, libpython's.
  'pgo-lto-v3': '--enable-optimizations --with-lto CFLAGS=-march=x86-64-v3',
  // Opt-in lever (issue 14): GCC's -O2 instead of CPython's -O3 (OPT). Given as CFLAGS to
  // configure, which come after OPT on every compile line (extension modules too), so
  // the last -O wins; the LTO links name no -O and take the objects' own. GCC's early
  // inliner differs between the two levels, so this needs its own profile run: the -O3
  // profile does not match (-Werror=coverage-mismatch).
  'pgo-lto-o2': '--enable-optimizations --with-lto CFLAGS=-O2',
  // Opt-in lever (issue 14): calls into libc through the GOT instead of the PLT. Given
  // to configure, which exports it; CPython's own flags stay, only this is added.
  'quick-noplt': 'CFLAGS_NODIST=-fno-plt',
};

/**
 * CPython's source patches, applied in this order (each patch's header says why): the
 * encodings modules of every start frozen into libpython; a switch for a program that
 * exits right after Py_FinalizeEx() (the isolate) to leave the interpreter's memory to
 * the process's exit; the strings of a deep-frozen module that a start does not import
 * (runpy, importlib.util) interned at its first import instead of at every start.
 * python3.11 itself behaves as unpatched but for the first (`encodings.__spec__.origin`
 * is 'frozen', as for os and site).
 */
const patches = [
  source(import.meta.url, 'cpython/freeze-encodings.patch'),
  source(import.meta.url, 'cpython/exit-without-freeing.patch'),
  source(import.meta.url, 'cpython/deepfreeze-lazy-interning.patch'),
];

/** The steps the CPython builds share (unpack, patches, configure, unchecked-hash pycs), sourced by their scripts. */
const cpythonSteps = source(import.meta.url, 'cpython/steps.sh');

function cpython(src: Derivation, version: string, variant: Variant): Derivation {
  if (variant === 'pgo-lto' || variant === 'pgo-lto-v3' || variant === 'pgo-lto-o2') return cpythonPgo(src, version, variant);
  return derivation({
    name: `cpython-${version}-${variant}`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'cpython/build.sh')],
    env: { src, configureFlags: configureFlags[variant], patches, steps: cpythonSteps },
    tools: [...shellTools, ...cTools, 'patch'],
    phases: 'cpython',
  });
}

/**
 * PGO+LTO in two derivations (derivations/cpython/pgo.sh): the profile run, which is
 * not deterministic and is pinned once built, and the optimized build from it, which
 * is. Both run in one absolute build directory named after the source's hash and the
 * configure flags, because CPython's extension objects (and so their .gcda files) are
 * named by absolute path.
 */
function cpythonPgo(src: Derivation, version: string, variant: 'pgo-lto' | 'pgo-lto-v3' | 'pgo-lto-o2'): Derivation {
  const flags = configureFlags[variant];
  /** '', '-v3', '-o2': the variant's part of the names (cpython-3.11.2-pgo-v3-profile, cpython-3.11.2-pgo-lto-v3). */
  const suffix = variant.slice('pgo-lto'.length);
  const key = createHash('sha256').update(`${src.drv.outputs.out.hash}\n${flags}`).digest('hex').slice(0, 16);
  const shared = {
    builder: 'sh',
    tools: [...shellTools, ...cTools, 'patch'],
    phases: 'cpython',
  };
  const common = { src, configureFlags: flags, patches, steps: cpythonSteps, slimeBuildDir: `cpython-${version}-pgo${suffix}-${key}` };
  const script = source(import.meta.url, 'cpython/pgo.sh');
  const profile = derivation({
    ...shared,
    name: `cpython-${version}-pgo${suffix}-profile`,
    args: ['-e', script],
    env: { ...common, pgoStage: 'profile', train: source(import.meta.url, 'bolt/train.py'), samples, workloads },
    nondeterministic: 'PGO profile: the .gcda counters of the PGO task depend on timing and scheduling',
  });
  return derivation({
    ...shared,
    name: `cpython-${version}-pgo-lto${suffix}`,
    args: ['-e', script],
    env: { ...common, pgoStage: 'optimize', profile, randomSeed: key },
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

/**
 * The default isolate's relative relocations packed (DT_RELR): the loader reads ~19 KB
 * of bitmaps instead of a 900 KB `.rela.dyn` of 37,500 entries, so the start of every
 * run misses the cache less (simulated LL misses -19 %) and the 68 samples ran ~3 %
 * faster in two runs, level with the store's python3.11 (derivations/README.md, "packed
 * relative relocations"). Still PIE, the executable's address still randomised, unlike
 * the opt-in `-no-pie`. Needs glibc 2.36 where it runs (GLIBC_ABI_DT_RELR; it already
 * needed 2.35).
 */
const PACKED_RELATIVE_RELOCS = '-Wl,-z,pack-relative-relocs';

/**
 * `linkArgs`: the linker arguments beyond rustc's own; opt-in variants give theirs (BOLT
 * needs `-Wl,--emit-relocs`, and is given relocations unpacked, as it was measured).
 */
function isolate(python: Derivation, variant: { suffix: string; linkArgs: string } = { suffix: '', linkArgs: PACKED_RELATIVE_RELOCS }): Derivation {
  return derivation({
    name: `isolate-${python.name.replace(/^cpython-/, '')}${variant.suffix}`,
    builder: 'sh',
    args: ['-e', source(import.meta.url, 'isolate/build.sh')],
    env: { python, pyo3Config: pyo3Config(python), vendor: isolateCrates, src: isolateCrate, ...(variant.linkArgs ? { linkArgs: variant.linkArgs } : {}) },
    tools: [...shellTools, ...cTools, ...rustTools()],
    phases: 'cargo',
  });
}

const samples = source(import.meta.url, '../samples');

function verify(python: Derivation, iso: Derivation): Derivation {
  return derivation({
    name: `verify-${iso.name}`,
    builder: 'sh',
    args: ['-e', `${source(import.meta.url, 'compare-samples')}/build.sh`],
    env: { python, isolate: iso, samples },
    tools: shellTools,
    phases: 'sample-comparison',
    comparesSamples: true,
  });
}

const cpythonTestsDir = source(import.meta.url, 'cpython-tests');

/**
 * CPython's own regression tests as the second verifier: every module of a selection
 * (a file in derivations/cpython-tests/) through the isolate and through its python3.11,
 * the same verdict required per module.
 */
function cpythonTests(python: Derivation, iso: Derivation, selection: 'quick' | 'all'): Derivation {
  return derivation({
    name: `cpython-tests-${selection}-${iso.name}`,
    builder: 'sh',
    args: ['-e', `${cpythonTestsDir}/build.sh`],
    env: { python, isolate: iso, selection: `${selection}.txt` },
    tools: shellTools,
    phases: 'cpython-tests',
  });
}

const workloads = source(import.meta.url, '../bench/workloads');

const boltScripts = source(import.meta.url, 'bolt');

/**
 * Opt-in: the isolate, linked with relocations kept, optimised by BOLT (derivations/bolt/)
 * in two derivations, as the PGO build is split: the profile of its own instrumented runs
 * of the bench workloads and the samples (declared nondeterministic, pinned once built),
 * and the optimisation from that profile (deterministic).
 */
function boltIsolate(python: Derivation): Derivation {
  const relocatable = isolate(python, { suffix: '-relocs', linkArgs: '-Wl,--emit-relocs' });
  const name = `isolate-${python.name.replace(/^cpython-/, '')}-bolt`;
  const tools = [...shellTools, 'readelf', 'llvm-bolt-19'];
  const profile = derivation({
    name: `${name}-profile`,
    builder: 'sh',
    args: ['-e', `${boltScripts}/profile.sh`],
    env: { isolate: relocatable, python, samples, workloads },
    tools,
    nondeterministic: 'BOLT profile: the branch counts of the training run depend on addresses (objects hashed by id), the garbage collector and timing',
  });
  return derivation({
    name,
    builder: 'sh',
    args: ['-e', `${boltScripts}/build.sh`],
    env: { isolate: relocatable, profile },
    tools,
  });
}

function fullTier(src: Derivation, version: string, variant: Variant) {
  const python = cpython(src, version, variant);
  const iso = isolate(python);
  return {
    python,
    isolate: iso,
    verification: verify(python, iso),
    cpythonTests: cpythonTests(python, iso, 'quick'),
    cpythonTestsAll: cpythonTests(python, iso, 'all'),
  };
}

export const full = fullTier(cpythonSource311, '3.11.2', 'pgo-lto');
export const fullQuick = fullTier(cpythonSource311, '3.11.2', 'quick');
export const full312 = fullTier(cpythonSource312, '3.12.3', 'pgo-lto');

const quickBolt = boltIsolate(fullQuick.python);
const quickNoPlt = fullTier(cpythonSource311, '3.11.2', 'quick-noplt');
/** Opt-in lever: the PGO+LTO CPython compiled for x86-64-v3 (not portable: runs only on such CPUs). */
const fullV3 = fullTier(cpythonSource311, '3.11.2', 'pgo-lto-v3');
/** Opt-in lever: the PGO+LTO CPython at -O2, with its own profile run. */
const fullO2 = fullTier(cpythonSource311, '3.11.2', 'pgo-lto-o2');
const pgoBolt = boltIsolate(full.python);
/**
 * Opt-in lever: the PGO+LTO isolate linked position-dependent, as Debian links its
 * python3.11. rustc asks for `-pie`; the `-no-pie` after it wins, and GCC's linker plugin
 * then generates libpython's LTO code for a fixed address (`-flinker-output=exec`).
 * Not the default: the seeds' recipe keeps PIE for the executable's address
 * randomisation and leaves the last few percent to the operator (derivations/README).
 */
const pgoNoPie = isolate(full.python, { suffix: '-nopie', linkArgs: '-no-pie' });
/** The Light tier (derivations/light.ts): the quick CPython is its build python and its reference. */
export const light = lightTier(cpythonSource311, fullQuick.python, '3.11.2');
/** RustPython 0.5.0's runners, verified against the same python3.11. */
export const lightRust = rustpythonTier(fullQuick.python);

export const targets = [
  target('full-x86_64', 'Full tier: PGO+LTO static CPython 3.11.2, the isolate, bit-exact verification', [full.isolate, full.verification]),
  // CPython's quick test selection runs in 2 min 24 s on this 2-core machine at load 25-30.
  target('full-x86_64-quick', "Full tier on the quick (no PGO/LTO) CPython 3.11.2: the CI build; bit-exact samples and CPython's quick test selection", [fullQuick.isolate, fullQuick.verification, fullQuick.cpythonTests]),
  target('full-x86_64-py312', 'Full tier on CPython 3.12.3 (needs python.org; fails fast where it is unreachable)', [full312.isolate, full312.verification]),
  target('full-x86_64-cpython-tests', "Every CPython regression test module through the quick isolate and its python3.11, the same verdict per module (opt-in: long)", [fullQuick.cpythonTestsAll]),
  target('full-x86_64-cpython-tests-quick', "CPython's quick selection of regression test modules through the quick isolate and its python3.11", [fullQuick.cpythonTests]),
  target('full-x86_64-quick-bolt', 'Opt-in: the quick isolate optimised by BOLT (bolt-19, instrumentation profile of the workloads and samples), verified bit-exact', [quickBolt, verify(fullQuick.python, quickBolt)]),
  target('full-x86_64-bolt', 'Opt-in: the PGO+LTO isolate optimised by BOLT (bolt-19, pinned instrumentation profile of the workloads and samples), verified bit-exact', [pgoBolt, verify(full.python, pgoBolt)]),
  target('full-x86_64-nopie', 'Opt-in lever: the PGO+LTO isolate linked position-dependent (-no-pie, as Debian links python3.11; no ASLR of the executable), verified bit-exact', [pgoNoPie, verify(full.python, pgoNoPie)]),
  target('full-x86_64-v3', 'Opt-in lever, not portable: the PGO+LTO CPython compiled with -march=x86-64-v3 (builds and runs only on a CPU with AVX2, BMI1/2, FMA, MOVBE: Haswell, Zen or later), its isolate, verified bit-exact', [fullV3.isolate, fullV3.verification]),
  target('full-x86_64-o2', "Opt-in lever: the PGO+LTO CPython compiled at -O2 instead of CPython's -O3 (its own profile run), its isolate, verified bit-exact", [fullO2.isolate, fullO2.verification]),
  target('full-x86_64-quick-noplt', 'Opt-in lever: the quick CPython and isolate compiled with -fno-plt (libc calls through the GOT), verified bit-exact', [quickNoPlt.isolate, quickNoPlt.verification]),
  target('cpython-quick', 'The quick static CPython 3.11.2 alone', [fullQuick.python]),
  target('light-wasm32', 'Light tier: CPython 3.11.2 for wasm32-wasi under wasmtime (AOT) and Node, verified against python3.11', [
    light.runners['wasmtime-aot'], light.runners.wasmtime, light.runners.node,
    light.verification['wasmtime-aot'], light.verification.node,
  ]),
  target('light-wasm32-wasmtime', 'Light tier, wasmtime only: CPython 3.11.2 for wasm32-wasi, AOT-compiled, verified (the CI build)', [
    light.runners['wasmtime-aot'], light.verification['wasmtime-aot'],
  ]),
  target('light-rustpython', 'Light tier, opt-in (~20-40 min): RustPython 0.5.0 native and for wasm32-wasip1 under wasmtime (AOT), verified against python3.11 and wasm against native', [
    rustpython, rustpythonWasm,
    lightRust.runners.native, lightRust.runners['wasmtime-aot'],
    lightRust.verification.native, lightRust.verification['wasmtime-aot'],
  ]),
];
