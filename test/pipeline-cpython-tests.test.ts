/**
 * CPython's own regression tests as the isolate's second verifier, for real:
 * `slime realize full-x86_64-cpython-tests-quick` runs the quick selection of test
 * modules (derivations/cpython-tests/quick.txt) from the installed lib/python3.11/test
 * under the quick isolate and under its own python3.11, and every module must end with
 * the same verdict. test_subprocess is in the selection: its test_empty_env failed under
 * an isolate that put PYTHONHASHSEED into its environment.
 * Reuses the project store's CPython and isolate (as pipeline-full-quick.test.ts does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, slime } from './support/cli.js';

const BUILD_TIMEOUT = 60 * 60_000;

interface Run { verdict: string; exitCode: number | null; tests: number | null }
interface Report { total: number; same: number; selection: string[]; modules: { name: string; same: boolean; python: Run; isolate: Run }[] }

describe('slime realize full-x86_64-cpython-tests-quick', () => {
  let out = '';
  let stderr = '';

  beforeAll(async () => {
    const r = await slime(['realize', 'full-x86_64-cpython-tests-quick', '--no-link', '--log-format', 'plain'], { cwd: ROOT });
    stderr = r.stderr;
    if (r.code !== 0) throw new Error(`realize failed with ${r.code}:\n${r.stderr.slice(-4000)}`);
    out = r.stdout.trim();
  }, BUILD_TIMEOUT);

  it('gives every selected module the same verdict under the isolate and python3.11', () => {
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    const selection = fs.readFileSync(path.join(ROOT, 'derivations/cpython-tests/quick.txt'), 'utf8')
      .split('\n').map((l) => l.split('#')[0].trim()).filter(Boolean);
    expect(report.selection).toEqual(selection);
    expect(report.total).toBe(selection.length);
    expect(report.modules.filter((m) => !m.same).map((m) => m.name)).toEqual([]);
    expect(report.same).toBe(report.total);
    expect(fs.readFileSync(path.join(out, 'report.txt'), 'utf8').trimEnd().endsWith(`${report.total}/${report.total} same verdict`)).toBe(true);
    expect(stderr).toContain('cpython-tests');
  });

  it('really ran the tests: most modules passed with tests counted, test_subprocess ProcessTestCase (test_empty_env) among them', () => {
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    const passed = report.modules.filter((m) => m.python.verdict === 'passed' && (m.python.tests ?? 0) > 0);
    expect(passed.length).toBeGreaterThanOrEqual(report.total * 0.8);
    const sub = report.modules.find((m) => m.name === 'test_subprocess[ProcessTestCase]')!;
    expect(sub.isolate).toEqual(sub.python);
    expect(sub.isolate.verdict).toBe('passed');
    expect(sub.isolate.tests).toBeGreaterThan(50);
  });
});
