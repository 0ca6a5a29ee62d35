/**
 * The Light tier's use of derivations/compare-samples (build.sh with `runner`, compare.py with
 * --runner): a stand-in runner (Debian's python3.11 behind a wrapper) that lacks a
 * module, rewords one message and gets one answer wrong, and the outcome each sample
 * is given: bit-exact, message (naming the line), unsupported (naming the module, read
 * from the run) or wrong. The Light tier's report is its product: wrong samples are
 * named, and the build still succeeds.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import verifyPhases from '../src/builder/phases/sample-comparison.js';
import { countOutcomes, outcomeOf, readReport, type ComparisonReport } from '../src/comparison/report.js';

const PYTHON = '/usr/bin/python3.11';
const root = path.resolve(import.meta.dirname, '..');
const buildSh = path.join(root, 'derivations/compare-samples/build.sh');

// Each sample's file name tells the stand-in runner what to do differently.
const crafted: Record<string, { code: string; exitCode?: number; signal?: string }> = {
  same: { code: 'print("hello")' },
  needs_zlib: { code: 'print("before")\nimport zlib\nprint(zlib.crc32(b"x"))' },
  needs_zlib_late: { code: 'print("computed", 6 * 7)\nimport zlib' },
  reworded: { code: 'print("caught" , end=": ")\ntry:\n    {}["k"]\nexcept KeyError as e:\n    print("KeyError:", e)\nraise TypeError("one thing")', exitCode: 1 },
  wrong_answer: { code: 'print("answer", 6 * 7)' },
  falls_back: { code: 'try:\n    import zlib\n    print("crc", zlib.crc32(b"x"))\nexcept ImportError:\n    print("crc unavailable")' },
  interrupted: { code: 'print("stop")\nraise KeyboardInterrupt', exitCode: 130, signal: 'SIGINT' },
  where_loaded: { code: 'print("_json: lib-dynload/_json.cpython-311-x86_64-linux-gnu.so")\nprint("same after")' },
  // Imports a module the runner lacks, but the only difference is where _json was loaded from.
  where_loaded_zlib: { code: 'try:\n    import zlib\nexcept ImportError:\n    pass\nprint("_json: lib-dynload/_json.cpython-311-x86_64-linux-gnu.so")' },
  hash_shown: { code: 'print("hash", hash("slime"), sorted({"b", "a"}))\nprint("same after")' },
  hash_and_wrong: { code: 'print("hash", hash("slime"))\nprint("answer", 6 * 7)' },
  // Built in where python3.11 loads it, and then a wrong answer: the answer is the difference.
  where_loaded_then_wrong: { code: 'print("_json: lib-dynload/_json.cpython-311-x86_64-linux-gnu.so")\nprint("answer", 6 * 7)' },
  // The runner stops on an exception python3.11 never raises (RustPython's partial _ctypes does).
  stops_on_error: { code: 'print("one")\nprint("two")' },
};

// The stand-in: python3.11 with zlib hidden (a finder that says it does not exist, as a
// wasm build without zlib would), messages reworded after the fact, one answer changed.
const standIn = `#!${PYTHON}
import os, subprocess, sys
here = os.path.dirname(os.path.abspath(__file__))
env = dict(os.environ, PYTHONPATH=os.path.join(here, "..", "lib"))
r = subprocess.run([${JSON.stringify(PYTHON)}, *sys.argv[1:]], capture_output=True, env=env)
out, err = r.stdout, r.stderr
if sys.argv[1] == "reworded.py":
    out = out.replace(b"KeyError: 'k'", b"KeyError: k")
    err = err.replace(b"TypeError: one thing", b"TypeError: another thing")
if sys.argv[1] == "wrong_answer.py":
    out = out.replace(b"42", b"41")
if sys.argv[1] == "where_loaded.py":
    out = out.replace(b"lib-dynload/_json.cpython-311-x86_64-linux-gnu.so", b"built-in")
if sys.argv[1] == "where_loaded_zlib.py":
    out = out.replace(b"lib-dynload/_json.cpython-311-x86_64-linux-gnu.so", b"built-in")
if sys.argv[1] == "where_loaded_then_wrong.py":
    out = out.replace(b"lib-dynload/_json.cpython-311-x86_64-linux-gnu.so", b"built-in").replace(b"42", b"41")
if sys.argv[1] == "stops_on_error.py":
    out = b"one\\n"
    err = b'Traceback (most recent call last):\\n  File "stops_on_error.py", line 2, in <module>\\nTypeError: cannot convert\\n'
    r.returncode = 1
if sys.argv[1] in ("hangs.py", "hangs_differing.py"):
    # Writes its first line (changed, for hangs_differing) and never ends.
    import time
    line = out.splitlines(keepends=True)[0]
    sys.stdout.buffer.write(line.replace(b"42", b"41") if sys.argv[1] == "hangs_differing.py" else line)
    sys.stdout.flush()
    time.sleep(3600)
if sys.argv[1] == "needs_zlib_late.py":
    out = out.replace(b"42", b"43")
# A 32-bit platform: hash() is as wide as a wasm32 pointer.
if sys.argv[1:3] == ["-c", "import sys\\nprint(sys.hash_info.width)\\n"]:
    out = b"32\\n"
if sys.argv[1] in ("hash_shown.py", "hash_and_wrong.py"):
    import re
    out = re.sub(rb"hash (-?[0-9]+)", lambda m: b"hash %d" % ((int(m.group(1)) + 2**31) % 2**32 - 2**31), out)
    out = out.replace(b"42", b"41")
sys.stdout.buffer.write(out)
sys.stderr.buffer.write(err)
# A platform without signals: a death by SIGINT becomes a plain exit status 130.
sys.exit(128 - r.returncode if r.returncode < 0 else r.returncode)
`;
const hideZlib = `import sys
class _NoZlib:
    def find_spec(self, name, path=None, target=None):
        if name == "zlib":
            raise ModuleNotFoundError("No module named 'zlib'", name="zlib")
sys.meta_path.insert(0, _NoZlib())
`;

let tmp: string;
let run: { status: number | null; stdout: string; stderr: string };
let report: ComparisonReport;
const sample = (name: string) => report.samples.find((s) => s.name === name)!;

function build(env: Record<string, string>, name: string) {
  const buildDir = path.join(tmp, `${name}-build`);
  const out = path.join(tmp, `${name}-out`);
  fs.mkdirSync(buildDir);
  const r = spawnSync('/bin/sh', ['-e', buildSh], {
    cwd: buildDir,
    env: { PATH: '/usr/bin:/bin', NIX_BUILD_TOP: buildDir, python: '/usr', out, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, out };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-verify-light-'));
  const samples = path.join(tmp, 'samples');
  fs.mkdirSync(samples);
  for (const [name, s] of Object.entries(crafted)) fs.writeFileSync(path.join(samples, `${name}.py`), s.code + '\n');
  fs.writeFileSync(path.join(samples, 'manifest.json'), JSON.stringify({
    samples: Object.entries(crafted).map(([name, s]) => ({
      name, file: `${name}.py`, category: 'crafted', exitCode: s.exitCode ?? 0, args: [], ...(s.signal ? { signal: s.signal } : {}),
    })),
  }));
  const runner = path.join(tmp, 'runner');
  fs.mkdirSync(path.join(runner, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(runner, 'lib'));
  fs.writeFileSync(path.join(runner, 'bin/python3.11'), standIn, { mode: 0o755 });
  fs.writeFileSync(path.join(runner, 'lib/sitecustomize.py'), hideZlib);
  const r = build({ runner, runnerLabel: 'stand-in runner', samples }, 'crafted');
  run = r;
  report = await readReport(r.out);
}, 150_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('verify with a Light tier runner', () => {
  it('gives every sample an outcome, names the wrong ones, and still keeps the report', () => {
    expect(Object.fromEntries(report.samples.map((s) => [s.name, outcomeOf(s)]))).toEqual({
      same: 'bit-exact',
      needs_zlib: 'unsupported',
      needs_zlib_late: 'wrong',
      reworded: 'message',
      wrong_answer: 'wrong',
      falls_back: 'unsupported',
      where_loaded: 'unsupported',
      interrupted: 'unsupported',
      where_loaded_zlib: 'unsupported',
      hash_shown: 'unsupported',
      hash_and_wrong: 'wrong',
      where_loaded_then_wrong: 'wrong',
      stops_on_error: 'wrong',
    });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('5 of 13 samples are wrong: needs_zlib_late, wrong_answer, hash_and_wrong, where_loaded_then_wrong, stops_on_error; see report.txt');
    expect(report.outcomes).toEqual({ 'bit-exact': 1, message: 1, unsupported: 6, wrong: 5 });
    expect(countOutcomes(report)).toEqual(report.outcomes);
    expect(report.passed).toBe(1);
  });

  it('names the runner and marks the report as the Light tier', () => {
    expect(report.tier).toBe('light');
    expect(report.runner).toBe('stand-in runner');
    expect(report.isolate).toBe(path.join(tmp, 'runner'));
  });

  it('names the missing module from the run, and which lines only reword a message', () => {
    expect(sample('needs_zlib').note).toBe("needs module zlib: ModuleNotFoundError: No module named 'zlib'");
    expect(sample('reworded').note).toBe('message text differs at stdout line 1; stderr line 4');
    expect(sample('needs_zlib_late').note).toMatch(/missing module zlib, but its output before that already differs/);
    expect(sample('wrong_answer').note).toBe('stdout differs at line 1');
    // Caught and worked around: found by tracing python3.11's imports and probing the runner.
    expect(sample('falls_back').note).toBe('needs module zlib: imported under python3.11, missing here');
    expect(sample('interrupted').note).toBe('needs signals: python3.11 dies by SIGINT, here it exits 130');
    expect(sample('where_loaded').note).toBe('needs dynamic loading: 1 line(s) name a lib-dynload module that is built in here, all else is identical');
  });

  it('prefers the explanation that accounts for every differing line to a module the runner lacks', () => {
    expect(sample('where_loaded_zlib').note).toBe('needs dynamic loading: 1 line(s) name a lib-dynload module that is built in here, all else is identical');
  });

  it('calls hash values a narrower platform cannot print unsupported, found by reseeding python3.11', () => {
    expect(sample('hash_shown').note).toBe(
      'needs a 64-bit hash(): stdout line 1 follow hash values (python3.11 prints them differently under PYTHONHASHSEED=1), and hash() is 32 bits wide here',
    );
    // A line that no hash seed changes differs too: that is wrong, whatever the hash width.
    expect(sample('hash_and_wrong').note).toBe('stdout differs at line 1');
  });

  it('points a wrong sample at its real difference, past lines that only say where a module was loaded from', () => {
    expect(sample('where_loaded_then_wrong').note).toBe('stdout differs at line 2');
    expect(sample('where_loaded_then_wrong').firstDifference).toEqual({ stream: 'stdout', line: 2, python: 'answer 42', isolate: 'answer 41' });
    expect(sample('stops_on_error').note).toBe('stdout differs at line 2; it stopped on TypeError: cannot convert');
  });

  it('reports a run killed at the timeout as timed out, with the limit, not as a line that differs', async () => {
    const samples = path.join(tmp, 'slow');
    fs.mkdirSync(samples);
    for (const name of ['hangs', 'hangs_differing']) fs.writeFileSync(path.join(samples, `${name}.py`), 'print("answer", 6 * 7)\nprint("done")\n');
    fs.writeFileSync(path.join(samples, 'manifest.json'), JSON.stringify({
      samples: ['hangs', 'hangs_differing'].map((name) => ({ name, file: `${name}.py`, category: 'crafted', exitCode: 0, args: [] })),
    }));
    // Long enough for python3.11 to print two lines on a loaded machine; the stand-in never ends.
    const r = build({ runner: path.join(tmp, 'runner'), runnerLabel: 'stand-in runner', samples, verifyTimeout: '10' }, 'slow');
    expect(r.status, r.stderr).toBe(0);
    const slow = await readReport(r.out);
    const hangs = slow.samples.find((s) => s.name === 'hangs')!;
    expect(outcomeOf(hangs)).toBe('wrong');
    expect(hangs.note).toBe("timed out: did not finish within 10 s, the limit per run; python3.11 exited 0; its output until then is the start of python3.11's");
    expect(hangs.exitCode).toEqual({ python: 0, isolate: null });
    expect(hangs.firstDifference).toEqual({ stream: 'exit', python: '0', isolate: 'killed: did not finish within 10 s' });
    expect(slow.samples.find((s) => s.name === 'hangs_differing')!.note).toBe(
      'timed out: did not finish within 10 s, the limit per run; python3.11 exited 0; its output already differed at stdout line 1',
    );
    expect(r.stdout).toContain('slime-compare: [1/2] fail hangs: wrong: timed out: did not finish within 10 s, the limit per run;');
    expect(slow.timeoutSeconds).toBe(10);
  }, 120_000);

  it('prints the outcomes for the phase reader and report.txt, and counts bit-exact as passed', () => {
    const read = verifyPhases();
    let last;
    for (const line of run.stdout.split('\n')) last = read(line) ?? last;
    expect(last).toEqual({ phase: 'compare', done: 13, total: 13, passed: 1 });
    expect(run.stdout).toContain('slime-compare: outcomes: 1 bit-exact, 1 message, 6 unsupported, 5 wrong\n');
    expect(run.stdout).toContain('slime-compare: [2/13] fail needs_zlib: unsupported: needs module zlib');
  });

  it('writes report.txt with the outcome marks and counts', async () => {
    const samples = path.join(tmp, 'fine');
    fs.mkdirSync(samples);
    for (const name of ['same', 'needs_zlib', 'reworded']) fs.copyFileSync(path.join(tmp, 'samples', `${name}.py`), path.join(samples, `${name}.py`));
    fs.writeFileSync(path.join(samples, 'manifest.json'), JSON.stringify({
      samples: ['same', 'needs_zlib', 'reworded'].map((name) => ({ name, file: `${name}.py`, category: 'crafted', exitCode: crafted[name].exitCode ?? 0, args: [] })),
    }));
    const r = build({ runner: path.join(tmp, 'runner'), runnerLabel: 'stand-in runner', samples }, 'fine');
    // The accepted differences are still shown in the build log, and nothing is called wrong.
    expect(r.stderr).toContain('runner:  caught: KeyError: k');
    expect(r.stderr).not.toMatch(/wrong/);
    expect(r.status).toBe(0);
    const fine = await readReport(r.out);
    expect(fine.outcomes).toEqual({ 'bit-exact': 1, message: 1, unsupported: 1, wrong: 0 });
    const text = fs.readFileSync(path.join(r.out, 'report.txt'), 'utf8');
    expect(text).toMatch(/^slime verify: the Light tier's stand-in runner against CPython$/m);
    expect(text).toMatch(/^UNSP  crafted\/needs_zlib +unsupported: needs module zlib/m);
    expect(text).toMatch(/^MSG   crafted\/reworded +message: message text differs/m);
  }, 120_000);

  it('runs a native twin beside the runner and says per sample whether they did the same (native)', async () => {
    const runner = path.join(tmp, 'runner');
    const twin = build({ runner, runnerLabel: 'stand-in wasm', native: runner, nativeLabel: 'stand-in native', samples: path.join(tmp, 'samples') }, 'twin');
    expect(twin.status).toBe(0);
    const same = await readReport(twin.out);
    expect(same.native).toEqual({ runner: 'stand-in native', report: runner, same: 13, differs: [] });
    expect(twin.stdout).toContain('slime-compare: same as stand-in native: 13/13; on the 7 samples that run here: 7/7\n');
    // A second stand-in that differs from the first on one sample.
    fs.mkdirSync(path.join(tmp, 'runner2/bin'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'runner2/bin/python3.11'), `#!/bin/sh\nif [ "$1" = same.py ]; then echo "hello, differently"; exit 0; fi\nexec ${runner}/bin/python3.11 "$@"\n`, { mode: 0o755 });
    const apart = build({ runner: path.join(tmp, 'runner2'), runnerLabel: 'stand-in wasm', native: runner, nativeLabel: 'stand-in native', samples: path.join(tmp, 'samples') }, 'apart');
    const differs = await readReport(apart.out);
    expect(differs.native).toMatchObject({ same: 12, differs: ['same'] });
    expect(differs.samples.find((s) => s.name === 'same')!.native).toBe('differs');
    expect(fs.readFileSync(path.join(apart.out, 'report.txt'), 'utf8')).toContain('same as stand-in native: 12/13 (differs: same); on the 7 samples that run here: 6/7\n');
    const unnamed = build({ runner, runnerLabel: 'stand-in wasm', native: runner, samples: path.join(tmp, 'samples') }, 'unnamed');
    expect(unnamed.status).not.toBe(0);
    expect(unnamed.stderr).toMatch(/nativeLabel is not set/);
  }, 240_000);

  it('calls a run whose exit status the runtime refused unsupported, and leaves it out of the samples that run (native)', async () => {
    const runner = path.join(tmp, 'runner');
    // A wasm runner under wasmtime, which refuses the module's exit(130) (it allows 0-125)
    // where the native twin exits 130: what RustPython-wasm32 does on errors/05.
    fs.mkdirSync(path.join(tmp, 'refusing/bin'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'refusing/bin/python3.11'), `#!/bin/sh
if [ "$1" = interrupted.py ]; then
  ${runner}/bin/python3.11 "$@"
  status=$?
  [ $status -lt 126 ] && exit $status
  printf 'Error: failed to run main module \`rustpython.cwasm\`\\n\\nCaused by:\\n    0: failed to invoke command default\\n    1: error while executing at wasm backtrace:\\n    2: exit with invalid exit status outside of [0..126)\\n' >&2
  exit 1
fi
exec ${runner}/bin/python3.11 "$@"
`, { mode: 0o755 });
    const r = build({ runner: path.join(tmp, 'refusing'), runnerLabel: 'stand-in wasm', native: runner, nativeLabel: 'stand-in native', samples: path.join(tmp, 'samples') }, 'refusing');
    expect(r.status, r.stderr).toBe(0);
    const refused = await readReport(r.out);
    const interrupted = refused.samples.find((s) => s.name === 'interrupted')!;
    expect(outcomeOf(interrupted)).toBe('unsupported');
    expect(interrupted.note).toBe('needs exit status 130: the runtime allows only 0-125');
    expect(interrupted.native).toBe('differs');
    expect(refused.native).toMatchObject({ same: 12, differs: ['interrupted'] });
    // It differs from the native twin, but it did not run here: 7/7 of those that did.
    expect(r.stdout).toContain('slime-compare: same as stand-in native: 12/13 (differs: interrupted); on the 7 samples that run here: 7/7\n');
  }, 240_000);

  it('stops, naming the variable, when a runner comes without its label', () => {
    const r = build({ runner: path.join(tmp, 'runner'), samples: path.join(tmp, 'samples') }, 'nolabel');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/runnerLabel is not set/);
  });
});
