/**
 * derivations/compare-samples (build.sh + compare.py) against stand-ins for the isolate: Debian's
 * python3.11 plays the CPython store path (/usr), and small wrappers play the isolate,
 * either passing everything through (all samples bit-exact) or changing what one
 * sample does (only that one fails, with the right first difference).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import verifyPhases from '../src/builder/phases/sample-comparison.js';
import { parseReport, readReport, ReportError, type ComparisonReport } from '../src/comparison/report.js';

const PYTHON = '/usr/bin/python3.11';
const root = path.resolve(import.meta.dirname, '..');
const buildSh = path.join(root, 'derivations/compare-samples/build.sh');
const verifyPy = path.join(root, 'derivations/compare-samples/compare.py');
const samplesDir = path.join(root, 'samples');
const manifest = JSON.parse(fs.readFileSync(path.join(samplesDir, 'manifest.json'), 'utf8')) as {
  samples: { name: string; file: string }[];
};

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-verify-test-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fake isolate store path: DIR/bin/isolate is `script`. */
function fakeIsolate(name: string, script: string): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'bin/isolate'), script, { mode: 0o755 });
  return dir;
}

/** Runs the builder as the derivation would: env in, cwd the build directory. */
function build(name: string, env: Record<string, string>) {
  const buildDir = path.join(tmp, `${name}-build`);
  const out = path.join(tmp, `${name}-out`);
  fs.mkdirSync(buildDir);
  const r = spawnSync('/bin/sh', ['-e', buildSh], {
    cwd: buildDir,
    env: { PATH: '/usr/bin:/bin', NIX_BUILD_TOP: buildDir, python: '/usr', samples: samplesDir, out, ...env },
    encoding: 'utf8',
    timeout: 170_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out, buildDir };
}

function lastPhase(stdout: string) {
  const read = verifyPhases();
  let last;
  for (const line of stdout.split('\n')) last = read(line) ?? last;
  return last;
}

describe('verify runner on all samples', () => {
  it('reports every sample bit-exact when the isolate is CPython itself', async () => {
    const isolate = fakeIsolate('passthrough', `#!/bin/sh\nexec ${PYTHON} "$@"\n`);
    const r = build('passthrough', { isolate });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const total = manifest.samples.length;
    const progress = r.stdout.trimEnd().split('\n');
    expect(progress).toEqual([
      `slime-compare: ${total} samples`,
      ...manifest.samples.map((s, i) => `slime-compare: [${i + 1}/${total}] pass ${s.name}`),
      `slime-compare: ${total}/${total} bit-exact`,
    ]);
    expect(lastPhase(r.stdout)).toEqual({ phase: 'compare', done: total, total, passed: total });

    const report = await readReport(r.out);
    expect(report).toMatchObject({ python: '/usr', isolate, total, passed: total });
    expect(report.samples.map((s) => s.name)).toEqual(manifest.samples.map((s) => s.name));
    for (const s of report.samples) {
      expect(s.stdout.isolate, s.name).toEqual(s.stdout.python);
      expect(s.stderr.isolate, s.name).toEqual(s.stderr.python);
      expect(s.exitCode.isolate, s.name).toBe(s.exitCode.python);
      expect(s.exitCode.python, s.name).toBe(s.expectedExitCode);
    }
    const interrupt = report.samples.find((s) => s.name === '05_keyboard_interrupt')!;
    expect(interrupt.exitCode).toEqual({ python: 130, isolate: 130 });
    expect(interrupt.signal).toEqual({ python: 'SIGINT', isolate: 'SIGINT' });
    const traceback = report.samples.find((s) => s.name === '01_uncaught_traceback')!;
    expect(traceback.stderr.python.bytes).toBeGreaterThan(500);

    expect(fs.readFileSync(path.join(r.out, 'report.txt'), 'utf8')).toMatch(new RegExp(`\\n${total}/${total} bit-exact\\n$`));
    const json = fs.readFileSync(path.join(r.out, 'report.json'), 'utf8');
    expect(json, 'the report must not depend on the build directory').not.toContain(r.buildDir);
    // Every run's scratch copy and HOME are gone; only the report copy remains.
    expect(fs.readdirSync(path.join(r.buildDir, 'verify-work'))).toEqual(['report.json']);
  }, 180_000);

  it('fails only the sample whose output the isolate changes, and says where', async () => {
    const isolate = fakeIsolate('alter-one', [
      '#!/bin/sh',
      'if [ "$1" = realworld/12_singledispatch.py ]; then',
      `  ${PYTHON} "$@" | sed '2s/^int:/INT:/'`,
      '  exit 0',
      'fi',
      `exec ${PYTHON} "$@"`,
      '',
    ].join('\n'));
    const r = build('alter-one', { isolate });
    expect(r.status).toBe(1);
    const total = manifest.samples.length;
    const index = manifest.samples.findIndex((s) => s.name === '12_singledispatch') + 1;
    expect(r.stdout).toContain(`slime-compare: [${index}/${total}] fail 12_singledispatch: stdout differs at line 2\n`);
    expect(r.stdout.match(/\] pass /g)).toHaveLength(total - 1);
    expect(lastPhase(r.stdout)).toEqual({ phase: 'compare', done: total, total, passed: total - 1 });
    expect(r.stderr).toContain('slime-compare: 12_singledispatch (realworld/12_singledispatch.py): stdout differs at line 2\n');
    expect(r.stderr).toContain('slime-compare:     python:  int:+1\nslime-compare:     isolate: INT:+1\n');
    expect(r.stderr).toMatch(/1 of \d+ samples are not bit-exact: 12_singledispatch;/);

    const report = await readReport(path.join(r.out, 'report.json'));
    expect(report.passed).toBe(total - 1);
    const failed = report.samples.filter((s) => !s.pass);
    expect(failed.map((s) => s.name)).toEqual(['12_singledispatch']);
    expect(failed[0].firstDifference).toEqual({ stream: 'stdout', line: 2, python: 'int:+1', isolate: 'INT:+1' });
    expect(failed[0].stdout.python.sha256).not.toBe(failed[0].stdout.isolate.sha256);
    expect(failed[0].stderr.isolate).toEqual(failed[0].stderr.python);
    expect(failed[0].problem).toBeUndefined();
    expect(fs.readFileSync(path.join(r.out, 'report.txt'), 'utf8')).toContain(`\n${total - 1}/${total} bit-exact\n`);
    // A failed build's output is discarded by the store; the build directory keeps a copy.
    expect(fs.readFileSync(path.join(r.buildDir, 'verify-work/report.json'), 'utf8'))
      .toBe(fs.readFileSync(path.join(r.out, 'report.json'), 'utf8'));
  }, 180_000);
});

describe('the errors samples against isolates that are almost CPython', () => {
  // Ways an embedding commonly drifts from `python3.11 SCRIPT`: each must make at least
  // the named sample differ, or the sample set would let that isolate through.
  const flawed: [string, string, string[]][] = [
    ['runs the script through runpy', `-c 'import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")'`, ['01_uncaught_traceback', '13_recursion_depth']],
    ['runs isolated (-I)', '-I', ['08_argv_path_file']],
    ['ignores PYTHON* variables, PYTHONHASHSEED included (-E)', '-E', ['08_argv_path_file']],
    ['leaves UTF-8 mode off under LC_ALL=C', '-X utf8=0', ['09_utf8_output']],
    ['skips site (-S)', '-S', ['08_argv_path_file']],
    ['optimizes (-O)', '-O', ['08_argv_path_file']],
    ['leaves stdout and stderr unbuffered (-u)', '-u', ['08_argv_path_file']],
    ['writes no bytecode (-B)', '-B', ['08_argv_path_file']],
    ['turns warnings into errors', '-W error', ['12_warnings']],
  ];
  let errorsOnly: string;
  beforeAll(() => {
    errorsOnly = path.join(tmp, 'errors-only');
    fs.cpSync(path.join(samplesDir, 'errors'), path.join(errorsOnly, 'errors'), { recursive: true });
    const all = JSON.parse(fs.readFileSync(path.join(samplesDir, 'manifest.json'), 'utf8')) as { samples: { category: string }[] };
    fs.writeFileSync(path.join(errorsOnly, 'manifest.json'), JSON.stringify({ samples: all.samples.filter((s) => s.category === 'errors') }));
  });

  it('writes the same report bytes when run again from the same build directory', () => {
    const isolate = fakeIsolate('again', `#!/bin/sh\nexec ${PYTHON} "$@"\n`);
    const work = path.join(tmp, 'again-work');
    const reports = ['again-1', 'again-2'].map((out) => {
      const r = spawnSync(PYTHON, [verifyPy, '--python', '/usr', '--isolate', isolate, '--samples', errorsOnly,
        '--out', path.join(tmp, out), '--work', work], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8', timeout: 50_000 });
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(path.join(tmp, out, 'report.json'));
    });
    expect(reports[1].equals(reports[0])).toBe(true);
  }, 60_000);

  it.each(flawed)('catches an isolate that %s', async (_what, flags, mustFail) => {
    const name = `flawed-${flawed.findIndex((f) => f[1] === flags)}`;
    const isolate = fakeIsolate(name, `#!/bin/sh\nexec ${PYTHON} ${flags} "$@"\n`);
    const r = build(name, { isolate, samples: errorsOnly });
    expect(r.status, r.stderr).toBe(1);
    const report = await readReport(r.out);
    const failed = report.samples.filter((s) => !s.pass);
    expect(failed.map((s) => s.name)).toEqual(expect.arrayContaining(mustFail));
    for (const s of failed) expect(s.firstDifference, s.name).toBeDefined();
  }, 60_000);
});

describe('verify runner on crafted samples', () => {
  // Each sample's file name tells the stand-in isolate below what to do differently.
  const crafted: Record<string, { code: string; exitCode?: number; signal?: string; args?: string[] }> = {
    same: { code: 'print("hello")' },
    exit_differs: { code: 'print("exit 0 in CPython")' },
    stderr_tail: { code: 'import sys\nprint("warn", file=sys.stderr)' },
    sigint: { code: 'raise KeyboardInterrupt', exitCode: 130, signal: 'SIGINT' },
    slow: { code: 'print("quick in CPython")' },
    flood: { code: 'print("a little output in CPython")' },
    wrong_expectation: { code: 'raise SystemExit(4)', exitCode: 0 },
    environment: {
      code: 'import os, sys\nprint(sorted(os.environ), os.environ["PYTHONHASHSEED"], os.environ["LC_ALL"], os.environ["TZ"], repr(sys.stdin.read()), sys.argv[1:])',
      args: ['two words', 'ü'],
    },
    isolation: {
      code: 'import os\nhome = os.environ["HOME"]\nprint("left over:", os.path.exists("marker"), os.listdir(home), os.getcwd().endswith("/verify-work/run"))\nopen("marker", "w").close()\nopen(os.path.join(home, "dot"), "w").close()',
    },
  };
  const standIn = `#!${PYTHON}
import os, signal, subprocess, sys, time
script = sys.argv[1]
if script == "slow.py":
    time.sleep(120)
if script == "flood.py":
    while True:
        sys.stdout.buffer.write(b"y" * 65536)
r = subprocess.run([${JSON.stringify(PYTHON)}, *sys.argv[1:]], capture_output=True)
out, err, code = r.stdout, r.stderr, r.returncode
if script == "exit_differs.py":
    code = 5
if script == "stderr_tail.py":
    err = err.rstrip(b"\\n")
if script == "sigint.py":
    code = 130  # a plain exit status, not a death by SIGINT
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(err)
sys.stdout.flush()
sys.stderr.flush()
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
`;
  let dir: string;
  let run: { status: number | null; stdout: string; stderr: string };
  let report: ComparisonReport;
  const sample = (name: string) => report.samples.find((s) => s.name === name)!;

  beforeAll(async () => {
    dir = path.join(tmp, 'crafted');
    const samples = path.join(dir, 'samples');
    fs.mkdirSync(samples, { recursive: true });
    for (const [name, s] of Object.entries(crafted)) fs.writeFileSync(path.join(samples, `${name}.py`), s.code + '\n');
    fs.writeFileSync(path.join(samples, 'manifest.json'), JSON.stringify({
      samples: Object.entries(crafted).map(([name, s]) => ({
        name, file: `${name}.py`, category: 'crafted', exitCode: s.exitCode ?? 0, args: s.args ?? [],
        ...(s.signal ? { signal: s.signal } : {}),
      })),
    }));
    const isolate = fakeIsolate('stand-in', standIn);
    const r = spawnSync(PYTHON, [verifyPy, '--python', '/usr', '--isolate', isolate, '--samples', samples,
      '--out', path.join(dir, 'out'), '--work', path.join(dir, 'verify-work'), '--timeout', '2'], {
      env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8', timeout: 60_000,
    });
    run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
    report = await readReport(path.join(dir, 'out'));
  }, 90_000);

  it('exits 1 and counts the passes', () => {
    expect(run.status).toBe(1);
    expect(report.total).toBe(Object.keys(crafted).length);
    expect(report.samples.filter((s) => s.pass).map((s) => s.name)).toEqual(['same', 'environment', 'isolation']);
    expect(run.stdout).toContain(`slime-compare: 3/${report.total} bit-exact\n`);
  });

  it('gives each run exactly the documented environment, stdin and arguments', () => {
    const expected = "['HOME', 'LC_ALL', 'PATH', 'PYTHONHASHSEED', 'TZ'] 0 C UTC '' ['two words', 'ü']\n";
    expect(sample('environment').stdout.python).toEqual({
      sha256: createHash('sha256').update(expected).digest('hex'),
      bytes: Buffer.byteLength(expected),
    });
  });

  it('runs both interpreters in a fresh copy at the same path', () => {
    const expected = 'left over: False [] True\n';
    expect(sample('isolation').stdout.python.sha256).toBe(createHash('sha256').update(expected).digest('hex'));
    expect(sample('isolation').pass).toBe(true);
  });

  it('reports an exit status difference', () => {
    expect(sample('exit_differs').firstDifference).toEqual({ stream: 'exit', python: '0', isolate: '5' });
    expect(sample('exit_differs').exitCode).toEqual({ python: 0, isolate: 5 });
    expect(run.stdout).toContain('fail exit_differs: exit differs: python 0, isolate 5\n');
  });

  it('tells a death by SIGINT from a plain exit status 130', () => {
    expect(sample('sigint').exitCode).toEqual({ python: 130, isolate: 130 });
    expect(sample('sigint').signal).toEqual({ python: 'SIGINT', isolate: null });
    expect(sample('sigint').firstDifference).toEqual({ stream: 'exit', python: '130 (killed by SIGINT)', isolate: '130' });
  });

  it('shows a missing final newline as the difference', () => {
    expect(sample('stderr_tail').firstDifference).toEqual({ stream: 'stderr', line: 1, python: 'warn', isolate: 'warn [no newline at end]' });
  });

  it('kills a run that passes the timeout and records it', () => {
    const slow = sample('slow');
    expect(slow.exitCode).toEqual({ python: 0, isolate: null });
    // The kill is the difference, not the output it never wrote, and the limit is named.
    expect(slow.firstDifference).toEqual({ stream: 'exit', python: '0', isolate: 'killed: did not finish within 2 s' });
    expect(run.stderr).toContain('slime-compare: slow (slow.py): isolate killed: did not finish within 2 s; python exited 0\n');
    expect(run.stdout).toContain('fail slow: isolate killed: did not finish within 2 s; python exited 0\n');
  });

  it('kills a run that floods its output', () => {
    const flood = sample('flood');
    expect(flood.exitCode).toEqual({ python: 0, isolate: null });
    expect(flood.stdout.isolate.bytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(flood.stdout.isolate.bytes).toBeLessThan(17 * 1024 * 1024);
    expect(flood.firstDifference).toEqual({ stream: 'exit', python: '0', isolate: 'killed: wrote more than 16 MiB on stdout' });
  });

  it('fails a sample whose reference run does not end as the manifest says, even if both agree', () => {
    const wrong = sample('wrong_expectation');
    expect(wrong.pass).toBe(false);
    expect(wrong.firstDifference).toBeUndefined();
    expect(wrong.exitCode).toEqual({ python: 4, isolate: 4 });
    expect(wrong.problem).toMatch(/reference python exited 4 but the manifest expects 0/);
  });
});

describe('verify runner input errors', () => {
  it('exits 2 naming a missing isolate binary', () => {
    const r = build('no-isolate', { isolate: path.join(tmp, 'nowhere') });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`the isolate ${path.join(tmp, 'nowhere/bin/isolate')} does not exist or is not executable`);
    expect(fs.existsSync(path.join(r.out, 'report.json'))).toBe(false);
  });

  it('stops naming an unset derivation variable', () => {
    const r = build('no-env', {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('env isolate (the isolate store path) is not set');
  });

  it('exits 2 when build.sh is used without the compare.py beside it', () => {
    const lone = path.join(tmp, 'lone');
    fs.mkdirSync(lone);
    fs.copyFileSync(buildSh, path.join(lone, 'build.sh'));
    const r = spawnSync('/bin/sh', ['-e', path.join(lone, 'build.sh')], {
      env: { PATH: '/usr/bin:/bin', NIX_BUILD_TOP: lone, python: '/usr', isolate: '/x', samples: samplesDir, out: path.join(lone, 'out') },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`compare.py is not beside ${path.join(lone, 'build.sh')}; add the whole derivations/compare-samples directory`);
  });

  it('exits 2 when the python input holds no CPython', () => {
    const empty = path.join(tmp, 'empty-prefix');
    fs.mkdirSync(path.join(empty, 'bin'), { recursive: true });
    const r = build('no-python', { python: empty, isolate: fakeIsolate('unused-2', `#!/bin/sh\nexec ${PYTHON} "$@"\n`) });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${empty}/bin holds no python3.N; the python input must be a CPython install prefix`);
  });

  it('exits 2 naming an isolate that cannot be started', () => {
    const r = build('not-executable', { isolate: fakeIsolate('garbage', 'not a program at all\n') });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`cannot start ${path.join(tmp, 'garbage/bin/isolate')}: Exec format error`);
  });

  it('exits 2 naming the bad manifest entry', () => {
    const samples = path.join(tmp, 'bad-manifest');
    fs.mkdirSync(samples);
    fs.writeFileSync(path.join(samples, 'a.py'), 'print(1)\n');
    fs.writeFileSync(path.join(samples, 'manifest.json'), JSON.stringify({
      samples: [{ name: 'a', file: 'a.py', category: 'c', exitCode: 0 }, { name: 'b', file: 'a.py', category: 'c', exitCode: '0' }],
    }));
    const r = build('bad-manifest', { isolate: fakeIsolate('unused', `#!/bin/sh\nexec ${PYTHON} "$@"\n`), samples });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("manifest.json: samples[1].exitCode must be int, got '0'");
  });
});

describe('readReport', () => {
  const digest = { sha256: 'a'.repeat(64), bytes: 3 };
  const valid = () => ({
    python: '/s/python', isolate: '/s/isolate', timeoutSeconds: 30, total: 2, passed: 1,
    samples: [
      { name: 'a', category: 'c', file: 'a.py', args: [], expectedExitCode: 0, exitCode: { python: 0, isolate: 0 },
        signal: { python: null, isolate: null }, stdout: { python: digest, isolate: digest },
        stderr: { python: digest, isolate: digest }, pass: true },
      { name: 'b', category: 'c', file: 'b.py', args: ['x'], expectedExitCode: 0, exitCode: { python: 0, isolate: null },
        signal: { python: null, isolate: null }, stdout: { python: digest, isolate: digest },
        stderr: { python: digest, isolate: digest }, pass: false,
        firstDifference: { stream: 'exit', python: '0', isolate: 'did not finish within 30 s (killed)' } },
    ],
  });

  it('accepts a well-formed report', () => {
    expect(parseReport(valid(), 'r.json')).toEqual(valid());
  });

  it.each([
    ['a wrong passed count', (r: any) => { r.passed = 2; }, 'passed is 2 but 1 samples have pass: true'],
    ['a total that disagrees with the list', (r: any) => { r.total = 3; }, 'total is 3 but samples lists 2'],
    ['a bad digest', (r: any) => { r.samples[0].stdout.isolate = { sha256: 'xyz', bytes: 1 }; }, 'samples[0].stdout.isolate.sha256 is not a hex SHA-256'],
    ['an unknown stream', (r: any) => { r.samples[1].firstDifference.stream = 'stdin'; }, 'samples[1].firstDifference.stream must be "stdout", "stderr" or "exit"'],
    ['a line-less stdout difference', (r: any) => { r.samples[1].firstDifference.stream = 'stdout'; }, 'samples[1].firstDifference.line must be a whole number 0 or more, got nothing'],
    ['a failure without a reason', (r: any) => { delete r.samples[1].firstDifference; }, 'samples[1] (b) fails without a recorded difference or problem'],
    ['a pass with a difference', (r: any) => { r.samples[0].problem = 'x'; }, 'samples[0] (a) passes yet records a difference or a problem'],
    ['a negative exit code', (r: any) => { r.samples[0].exitCode.python = -2; }, 'samples[0].exitCode.python must be a whole number 0 or more, got -2'],
    ['a duplicate name', (r: any) => { r.samples[1].name = 'a'; }, 'sample a appears twice'],
  ])('rejects %s', (_what, damage, message) => {
    const r = valid();
    damage(r);
    expect(() => parseReport(r, 'r.json')).toThrow(ReportError);
    expect(() => parseReport(r, 'r.json')).toThrow(`sample comparison report r.json: ${message}`);
  });

  it('names a missing or non-JSON file', async () => {
    const missing = path.join(tmp, 'missing-report');
    await expect(readReport(missing)).rejects.toThrow(`sample comparison report ${missing} does not exist; realize the comparison`);
    const garbage = path.join(tmp, 'garbage.json');
    fs.writeFileSync(garbage, '{"python": ');
    await expect(readReport(garbage)).rejects.toThrow(`sample comparison report ${garbage}: is not JSON`);
  });
});
