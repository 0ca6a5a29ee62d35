/**
 * derivations/compare-samples against the real RustPython 0.5.0 (the `light-rustpython`
 * target's native launcher), on the samples whose classification depends on what
 * RustPython really prints: a C module it lacks (its own ModuleNotFoundError), lines that
 * only say a module is built in followed by a real difference (the note must point at
 * the real one), an exception python3.11 never raises, and differences that stay wrong.
 *
 * RustPython takes ~10-40 min to build and CI does not build it: this runs only where
 * `slime realize light-rustpython` (or rustpython-0.5.0-native) has been done in the test
 * store ($SLIME_TEST_STORE, else store/), and is skipped, saying so, elsewhere.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { outcomeOf, readReport, type ComparisonReport } from '../src/comparison/report.js';
import { CLI, ROOT, tempDir } from './support/cli.js';

const store = process.env.SLIME_TEST_STORE ?? path.join(ROOT, 'store');

/** The output path of a derivation of the project's module, when it is valid in the store. */
function realized(name: string): string | undefined {
  if (!fs.existsSync(store)) return undefined;
  const r = spawnSync(process.execPath, [CLI, 'show', name, '--store', store], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  if (r.status !== 0) return undefined;
  const shown = JSON.parse(r.stdout) as { outputs: { out: string }; valid: { out: boolean } };
  return shown.valid.out ? shown.outputs.out : undefined;
}

const python = realized('cpython-3.11.2-quick');
const native = realized('rustpython-0.5.0-native');
const wasm = realized('rustpython-0.5.0-wasmtime-aot');
const picked = ['03_hash_algorithms', '05_sqlite3_memory', '06_ctypes_libc', '08_struct_array_math', '12_warnings', '13_recursion_depth'];

/**
 * Runs build.sh (compare.py) on the picked samples (or `only`) with `runner` as the Light
 * runner, and `twin` as its native twin when given.
 */
async function verifyPicked(runner: string, label: string, only = picked, twin?: { native: string; nativeLabel: string }): Promise<ComparisonReport> {
  const tmp = tempDir('slime-verify-rustpython-');
  const samples = path.join(tmp, 'samples');
  fs.cpSync(path.join(ROOT, 'samples'), samples, { recursive: true });
  const manifest = JSON.parse(fs.readFileSync(path.join(samples, 'manifest.json'), 'utf8')) as { samples: { name: string }[] };
  manifest.samples = manifest.samples.filter((s) => only.includes(s.name));
  fs.writeFileSync(path.join(samples, 'manifest.json'), JSON.stringify(manifest));
  const buildDir = path.join(tmp, 'build');
  fs.mkdirSync(buildDir);
  const r = spawnSync('/bin/sh', ['-e', path.join(ROOT, 'derivations/compare-samples/build.sh')], {
    cwd: buildDir,
    env: { PATH: '/usr/bin:/bin', NIX_BUILD_TOP: buildDir, python: python!, runner, runnerLabel: label, samples, out: path.join(tmp, 'out'), verifyTimeout: '120', ...twin },
    encoding: 'utf8',
    timeout: 400_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return readReport(path.join(tmp, 'out'));
}

describe.skipIf(!python || !native)(`RustPython native classified by compare.py (needs light-rustpython realized in ${store})`, () => {
  let report: ComparisonReport;
  const sample = (name: string) => report.samples.find((s) => s.name === name)!;

  beforeAll(async () => {
    report = await verifyPicked(native!, 'RustPython, native');
  }, 420_000);

  it('calls a C module RustPython lacks unsupported, naming it from its own error', () => {
    expect(outcomeOf(sample('05_sqlite3_memory'))).toBe('unsupported');
    expect(sample('05_sqlite3_memory').note).toBe("needs module _sqlite3: ModuleNotFoundError: No module named '_sqlite3'");
  });

  it('points a wrong dynload sample at its real difference, past the built-in lines', () => {
    // RustPython's blake2 objects come from _hashlib, python3.11's from _blake2.
    expect(outcomeOf(sample('03_hash_algorithms'))).toBe('wrong');
    expect(sample('03_hash_algorithms').note).toBe('stdout differs at line 15');
    expect(sample('03_hash_algorithms').firstDifference?.python).toMatch(/_blake2\.blake2b$/);
    // cmath.phase(-1 - 0j): RustPython gets the sign of the zero imaginary part wrong.
    expect(sample('08_struct_array_math').note).toBe('stdout differs at line 11');
    expect(sample('08_struct_array_math').firstDifference?.isolate).toMatch(/ -3\.141592653589793$/);
  });

  it('names the exception a partial module stopped on, and keeps it wrong', () => {
    expect(outcomeOf(sample('06_ctypes_libc'))).toBe('wrong');
    expect(sample('06_ctypes_libc').note).toBe("stdout differs at line 3; it stopped on TypeError: Don't know how to convert parameter CFunctionType");
  });

  it('keeps behaviour differences wrong: a relative script path, a message text printed by the program', () => {
    expect(outcomeOf(sample('12_warnings'))).toBe('wrong');
    expect(sample('12_warnings').firstDifference).toMatchObject({ stream: 'stderr', line: 1 });
    expect(outcomeOf(sample('13_recursion_depth'))).toBe('wrong');
  });
});

describe.skipIf(!python || !wasm)(`RustPython wasm32-wasip1 under wasmtime classified by compare.py (needs light-rustpython realized in ${store})`, () => {
  let report: ComparisonReport;
  const sample = (name: string) => report.samples.find((s) => s.name === name)!;

  beforeAll(async () => {
    report = await verifyPicked(wasm!, 'RustPython-wasm32, wasmtime (AOT)');
  }, 420_000);

  it('names the C modules the wasm build lacks from RustPython\'s own errors', () => {
    expect(outcomeOf(sample('06_ctypes_libc'))).toBe('unsupported');
    expect(sample('06_ctypes_libc').note).toBe("needs module _ctypes: ModuleNotFoundError: No module named '_ctypes'");
    expect(sample('05_sqlite3_memory').note).toBe("needs module _sqlite3: ModuleNotFoundError: No module named '_sqlite3'");
  });

  it('finds the same wrong answers as the native build, at the same lines', () => {
    expect(sample('03_hash_algorithms').note).toBe('stdout differs at line 15');
    expect(sample('08_struct_array_math').note).toBe('stdout differs at line 11');
  });
});

describe.skipIf(!native || !wasm)(`RustPython wasm32-wasip1 against its native build (needs light-rustpython realized in ${store})`, () => {
  it('hashes str, bytes, tuples and slices as the native build does (derivations/rustpython-wasm/patches)', () => {
    const code = 'import sys; print(hash("a"), hash("slime"), hash("\u00e9t\u00e9"), hash(b"abc"), hash(memoryview(b"abc")), hash(""), '
      + 'hash((1, 2)), hash((1, "a")), hash(slice(1, 2, 3)), hash(frozenset({1, 2})), sys.hash_info.width)';
    const hashes = [native!, wasm!].map((launcher) => {
      const r = spawnSync(path.join(launcher, 'bin/python3.11'), ['-c', code], {
        cwd: tempDir('slime-rustpython-hash-'), env: { PATH: '/usr/bin:/bin', PYTHONHASHSEED: '0' }, encoding: 'utf8', timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    });
    // hash("a") under PYTHONHASHSEED=0: RustPython's siphash24 with an 8-byte length prefix.
    expect(hashes[0]).toMatch(/^-1330702654757084233 /);
    expect(hashes[1]).toBe(hashes[0]);
  }, 300_000);

  it('exits 130 on an uncaught KeyboardInterrupt, which wasmtime refuses: unsupported, and not among the samples that run', async () => {
    const report = await verifyPicked(wasm!, 'RustPython-wasm32, wasmtime (AOT)', ['05_keyboard_interrupt', '08_argv_path_file'],
      { native: native!, nativeLabel: 'RustPython, native' });
    const sample = (name: string) => report.samples.find((s) => s.name === name)!;
    expect(outcomeOf(sample('05_keyboard_interrupt'))).toBe('unsupported');
    expect(sample('05_keyboard_interrupt').note).toBe('needs exit status 130: the runtime allows only 0-125');
    // Native RustPython dies by SIGINT; under wasmtime the module's exit(130) is refused.
    expect(sample('05_keyboard_interrupt').native).toBe('differs');
    // errors/08 prints hash("slime") and hash((1, "a")): the same on both builds now.
    expect(sample('08_argv_path_file').native).toBe('same');
    expect(report.native).toMatchObject({ same: 1, differs: ['05_keyboard_interrupt'] });
  }, 420_000);
});
