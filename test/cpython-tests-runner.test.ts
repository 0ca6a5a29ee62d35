/**
 * derivations/cpython-tests/run_tests.py with a real regrtest (Debian python3.11's
 * test.libregrtest) on small test modules of our own: a module passing under both
 * interpreters, one skipped, one failing in both (the same verdict: no difference), and
 * one that fails only under an "isolate" that leaks a variable into the environment, as
 * the isolate leaked PYTHONHASHSEED. No CPython build is needed.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './support/cli.js';

const RUNNER = path.join(ROOT, 'derivations/cpython-tests/run_tests.py');
const DEBIAN_TEST = '/usr/lib/python3.11/test';

const MODULES: Record<string, string> = {
  test_plain: 'import unittest\nclass T(unittest.TestCase):\n    def test_a(self): self.assertEqual(1 + 1, 2)\n    def test_b(self): pass\n',
  test_skipped_whole: 'import unittest\nraise unittest.SkipTest("not here")\n',
  test_fails_both: 'import unittest\nclass T(unittest.TestCase):\n    def test_bad(self): self.fail("always")\n    def test_good(self): pass\n',
  test_env_clean: [
    'import os, subprocess, sys, unittest',
    'class T(unittest.TestCase):',
    '    def test_no_leak(self): self.assertNotIn("FAKE_LEAK", os.environ)',
    '    @unittest.skip("demonstrates a skip inside a module")',
    '    def test_skipped(self): pass',
    '',
  ].join('\n'),
};

function writeExecutable(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
}

let dir = '';
function run(selection: string, expected?: string) {
  const sel = path.join(dir, `selection-${Math.random().toString(36).slice(2)}.txt`);
  fs.writeFileSync(sel, selection);
  const out = path.join(dir, `out-${path.basename(sel)}`);
  const work = path.join(dir, `work-${path.basename(sel)}`);
  const extra: string[] = [];
  if (expected !== undefined) {
    fs.writeFileSync(`${sel}.expected`, expected);
    extra.push('--expected-differences', `${sel}.expected`);
  }
  const r = spawnSync('/usr/bin/python3.11', [RUNNER, '--python', path.join(dir, 'py'), '--isolate', path.join(dir, 'iso'), '--selection', sel, '--out', out, '--work', work, '--jobs', '2', ...extra], { encoding: 'utf8' });
  return { ...r, out, work };
}

beforeAll(() => {
  dir = tempDir('slime-cpython-tests-');
  const lib = path.join(dir, 'lib');
  fs.mkdirSync(path.join(lib, 'test'), { recursive: true });
  fs.writeFileSync(path.join(lib, 'test/__init__.py'), '');
  fs.copyFileSync(path.join(DEBIAN_TEST, '__main__.py'), path.join(lib, 'test/__main__.py'));
  for (const pkg of ['libregrtest', 'support']) fs.symlinkSync(path.join(DEBIAN_TEST, pkg), path.join(lib, 'test', pkg));
  for (const [name, text] of Object.entries(MODULES)) fs.writeFileSync(path.join(lib, 'test', `${name}.py`), text);
  // The runner checks that the CPython prefix installs its tests.
  fs.mkdirSync(path.join(dir, 'py/lib/python3.11/test/libregrtest'), { recursive: true });
  writeExecutable(path.join(dir, 'py/bin/python3.11'), `#!/bin/sh\nPYTHONPATH=${lib} exec /usr/bin/python3.11 "$@"\n`);
  writeExecutable(path.join(dir, 'iso/bin/isolate'), `#!/bin/sh\nFAKE_LEAK=1 PYTHONPATH=${lib} exec /usr/bin/python3.11 "$@"\n`);
});

describe('run_tests.py', () => {
  it('requires the same verdict per module: same for passed, skipped and failed-in-both, a difference for a leaked variable', () => {
    const r = run('# comment\ntest_plain\ntest_skipped_whole  # a module-level skip\n\ntest_fails_both\ntest_env_clean\ntest_plain\n');
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('slime-cpython-tests: 4 modules\n');
    expect(r.stdout).toMatch(/\[\d\/4\] differ test_env_clean: python passed, isolate failed/);
    expect(r.stdout).toContain('slime-cpython-tests: 3/4 same verdict\n');
    expect(r.stderr).toContain("test_env_clean: differs: test.test_env_clean.T.test_no_leak\n");
    expect(r.stderr).toContain('1 of 4 test modules differ: test_env_clean');
    const report = JSON.parse(fs.readFileSync(path.join(r.out, 'report.json'), 'utf8'));
    expect(fs.readFileSync(path.join(r.work, 'report.json'), 'utf8')).toBe(fs.readFileSync(path.join(r.out, 'report.json'), 'utf8'));
    expect(report.selection).toEqual(['test_plain', 'test_skipped_whole', 'test_fails_both', 'test_env_clean']);
    const byName = Object.fromEntries(report.modules.map((m: { name: string }) => [m.name, m]));
    expect(byName.test_plain).toMatchObject({ same: true, python: { verdict: 'passed', exitCode: 0, tests: 2, failures: 0, errors: 0, skipped: 0 } });
    expect(byName.test_skipped_whole).toMatchObject({ same: true, python: { verdict: 'skipped', exitCode: 0 } });
    expect(byName.test_fails_both).toMatchObject({ same: true, python: { verdict: 'failed', exitCode: 2, tests: 2, failures: 1 } });
    expect(byName.test_env_clean).toMatchObject({
      same: false,
      python: { verdict: 'passed', tests: 2, skipped: 1 },
      isolate: { verdict: 'failed', tests: 2, failures: 1, skipped: 1 },
    });
    expect(byName.test_env_clean.differingTests).toHaveLength(1);
    expect(byName.test_env_clean.differingTests[0]).toMatch(/test_no_leak/);
    const text = fs.readFileSync(path.join(r.out, 'report.txt'), 'utf8');
    expect(text).toMatch(/DIFFER  test_env_clean/);
    expect(text.trimEnd().split('\n').pop()).toBe('3/4 same verdict');
  }, 120_000);

  it('exits 0 when every verdict is the same; test_NAME[PATTERN] runs only what regrtest -m PATTERN selects', () => {
    const r = run('test_plain\ntest_fails_both\ntest_fails_both[test_good]\n');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('slime-cpython-tests: 3/3 same verdict\n');
    const report = JSON.parse(fs.readFileSync(path.join(r.out, 'report.json'), 'utf8'));
    expect(report.modules[2]).toMatchObject({ name: 'test_fails_both[test_good]', same: true, python: { verdict: 'passed', tests: 1, failures: 0 } });
  }, 120_000);

  it('leaves the expected differences out of both runs and lists them with their reasons', () => {
    const r = run('test_env_clean\n', '# designed\ntest.test_env_clean.T.test_no_leak  # the fake isolate leaks on purpose\n');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(r.out, 'report.json'), 'utf8'));
    expect(report.expectedDifferences).toEqual([{ test: 'test.test_env_clean.T.test_no_leak', reason: 'the fake isolate leaks on purpose' }]);
    expect(report.modules[0]).toMatchObject({ same: true, python: { verdict: 'passed', tests: 1, skipped: 1 }, isolate: { verdict: 'passed', tests: 1 } });
    expect(fs.readFileSync(path.join(r.out, 'report.txt'), 'utf8')).toContain('  test.test_env_clean.T.test_no_leak: the fake isolate leaks on purpose\n');
    const bad = run('test_plain\n', 'test_no_leak\n');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/\.expected:1: expected `test\.test_MODULE\.Class\.test_name  # reason`, got 'test_no_leak'/);
  }, 120_000);

  it('refuses a selection line that is not a module name, naming the file and line, and writes nothing', () => {
    const r = run('test_plain\nos.path\n');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^slime-cpython-tests: error: \S+selection-\w+\.txt:2: 'os\.path' is not a test module name \(test_NAME, or test_NAME\[PATTERN\]\) or ALL; fix the selection\n$/);
    expect(fs.existsSync(r.out)).toBe(false);
  });
});
