/**
 * The Light tier in CI: `slime realize light-wasm32-wasmtime` cross-builds CPython 3.11.2
 * for wasm32-wasi from the pinned source (the quick native CPython, which
 * pipeline-full-quick.test.ts builds in the same project store, is its build python and
 * its reference), fetches wasmtime through pip, compiles python.wasm ahead of time, and
 * verifies the wasmtime runner on every sample. Then it checks what the report and the
 * launcher promise.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readReport, outcomeOf, type ComparisonReport } from '../src/comparison/report.js';
import { ROOT, slime, tempDir } from './support/cli.js';

const BUILD_TIMEOUT = 60 * 60_000;

describe('slime realize light-wasm32-wasmtime', () => {
  let launcher = '';
  let report: ComparisonReport;
  let wasi = '';
  let stderr = '';

  beforeAll(async () => {
    const r = await slime(['realize', 'light-wasm32-wasmtime', '--no-link', '--log-format', 'plain'], { cwd: ROOT, env: { RUST_BACKTRACE: '0' } });
    stderr = r.stderr;
    if (r.code !== 0) throw new Error(`realize failed with ${r.code}:\n${r.stderr.slice(-4000)}`);
    const [launcherOut, verification] = r.stdout.trim().split('\n');
    launcher = launcherOut;
    report = await readReport(verification);
    const show = JSON.parse((await slime(['show', 'cpython-3.11.2-wasi'], { cwd: ROOT })).stdout);
    wasi = show.outputs.out;
  }, BUILD_TIMEOUT);

  it('builds python.wasm and a stdlib with unchecked-hash pycs, and a launcher running the AOT module', () => {
    const wasm = fs.readFileSync(path.join(wasi, 'bin/python.wasm'));
    expect(wasm.subarray(0, 4)).toEqual(Buffer.from('\0asm'));
    const pyc = fs.readFileSync(path.join(wasi, 'lib/python3.11/__pycache__/os.cpython-311.pyc'));
    expect(pyc.readUInt32LE(4)).toBe(1); // flags: hash-based, unchecked
    expect(fs.existsSync(path.join(wasi, 'lib/libpython3.11.a'))).toBe(false);
    const script = fs.readFileSync(path.join(launcher, 'bin/python3.11'), 'utf8');
    expect(script).toMatch(/wasmtime run --allow-precompiled .*\n.*python\.cwasm "\$@"/);
  });

  it('verifies every sample and classifies each difference; the known ones and no others', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'samples/manifest.json'), 'utf8')) as { samples: unknown[] };
    expect(report.tier).toBe('light');
    expect(report.runner).toBe('CPython-wasi, wasmtime (AOT)');
    expect(report.total).toBe(manifest.samples.length);
    const by = (o: string) => report.samples.filter((s) => outcomeOf(s) === o).map((s) => s.name).sort();
    // Nothing is wrong: sys.path[0] is absolute (slime's realpath) and the recursion limit
    // is python3.11's; what wasm32 cannot print is hash(), 32 bits wide there.
    expect(by('wrong')).toEqual([]);
    expect(by('message')).toEqual([]);
    const outcome = (name: string) => report.samples.find((s) => s.name === name)!;
    expect(outcomeOf(outcome('13_recursion_depth'))).toBe('bit-exact');
    expect(outcome('08_argv_path_file').note).toMatch(/^needs a 64-bit hash\(\): stdout line 11 follow hash values .* 32 bits wide here$/);
    // Only the line naming where _pickle was loaded from differs, though _hashlib is missing too.
    expect(outcome('11_pickle_accelerated').note).toMatch(/^needs dynamic loading: 1 line/);
    for (const s of report.samples.filter((x) => outcomeOf(x) === 'unsupported')) expect(s.note).toMatch(/^needs /);
    expect(report.samples.find((s) => s.name === '06_ctypes_libc')!.note).toMatch(/^needs module _ctypes/);
    expect(report.passed).toBeGreaterThanOrEqual(51);
    expect(stderr).toContain(`${report.passed}/${report.total} bit-exact`);
  });

  it("recurses as deep as python3.11: C recursions end in RecursionError at the same depth, never in a trap", () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'deep.py'), `import json, sys
depth = 0
def count():
    global depth
    depth += 1
def dive():
    count()
    dive()
class G:
    def __getattr__(self, name):
        count()
        return getattr(G(), name)
def by_key(x):
    count()
    return sorted([1, 2], key=by_key)
nested = []
for _ in range(100000):
    nested = [nested]
for name, f in [("python", dive), ("getattr", lambda: G().x), ("sorted", lambda: by_key(0)),
                ("repr", lambda: repr(nested)), ("json", lambda: json.dumps(nested))]:
    depth = 0
    try:
        f()
    except RecursionError as e:
        print(name, depth, e)
print(sys.getrecursionlimit(), sys.path[0] == sys.argv[1])
`);
    const args = ['deep.py', fs.realpathSync(dir)];
    const env = { PATH: '/usr/bin:/bin', PYTHONHASHSEED: '0' };
    const native = spawnSync(path.join(report.python, 'bin/python3.11'), args, { cwd: dir, encoding: 'utf8', env });
    const wasm = spawnSync(path.join(launcher, 'bin/python3.11'), args, { cwd: dir, encoding: 'utf8', env });
    expect(native.stdout).toMatch(/^python 99\d maximum recursion depth exceeded\n/);
    expect(native.stdout).toMatch(/\n1000 True\n$/);
    expect({ stdout: wasm.stdout, stderr: wasm.stderr, status: wasm.status }).toEqual({ stdout: native.stdout, stderr: '', status: 0 });
  });

  it('runs a program in the directory it was started in, and keeps the rest of the host out of reach', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'data.txt'), 'from the host\n');
    fs.writeFileSync(path.join(dir, 'prog.py'), `import os, sys
print(os.getcwd() == sys.argv[1], open("data.txt").read().strip(), sys.platform)
try:
    open("/etc/hostname")
except OSError as e:
    print("host file:", type(e).__name__)
print(sorted(k for k in os.environ if k.startswith("SLIME")))
`);
    const r = spawnSync(path.join(launcher, 'bin/python3.11'), ['prog.py', fs.realpathSync(dir)], { cwd: dir, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    expect(r.stderr).toBe('');
    // wasmtime refuses the path outright: /etc was never granted (WASI's ENOTCAPABLE).
    expect(r.stdout).toBe('True from the host wasi\nhost file: PermissionError\n[]\n');
    expect(r.status).toBe(0);
  });
});
