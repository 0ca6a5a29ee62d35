/**
 * `slime run` on the Full tier, for real: the isolate of full-x86_64-quick (built by the
 * pipeline test in the same project store, or here if this file runs first) runs a
 * script with argv, stdin, stdout, stderr and the exit status passed through; every
 * run is recorded; --explain decides without running; bad invocations are usage errors.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, slime, tempDir } from './support/cli.js';

const BUILD_TIMEOUT = 45 * 60_000;
const FIXTURES = path.join(ROOT, 'test/fixtures/router');
// The project store, as the pipeline test uses it (a developer may point this at another store holding the Full tier).
const store = process.env.SLIME_TEST_STORE ?? path.join(ROOT, 'store');

function runIn(cwd: string, args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'run', '--store', store, '-f', path.join(ROOT, 'derivations/index.ts'), '--full', 'full-x86_64-quick', ...args], {
    cwd, env: { ...process.env, CI: '1' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('slime run on the Full tier', () => {
  beforeAll(async () => {
    const r = await slime(['realize', 'full-x86_64-quick', '--no-link', '--log-format', 'plain', '--store', store], { cwd: ROOT });
    if (r.code !== 0) throw new Error(`realize failed with ${r.code}:\n${r.stderr.slice(-4000)}`);
  }, BUILD_TIMEOUT);

  it('passes argv (dashes included), stdin, stdout, stderr and the exit status through', async () => {
    const r = await runIn(FIXTURES, ['--tier', 'full', 'argv_stdin_exit.py', '7', '--flag', '-x'], 'hello stdin\n');
    // sys.argv[0] is the path as typed, relative stays relative (as python3.11 sees it).
    const dir = tempDir('slime-run-argv0-');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub/argv0.py'), 'import sys\nprint(sys.argv[0])\n');
    expect((await runIn(dir, ['--tier', 'full', 'sub/argv0.py'])).stdout).toBe('sub/argv0.py\n');
    expect(r.stdout).toBe("argv: ['7', '--flag', '-x']\nstdin: 12 HELLO STDIN\n");
    expect(r.stderr).toBe('to stderr\n');
    expect(r.code).toBe(7);
  });

  it('reports a script killed by a signal as a shell would: 128 + N', async () => {
    const dir = tempDir('slime-run-');
    fs.writeFileSync(path.join(dir, 'kill_self.py'), 'import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n');
    const r = await runIn(dir, ['--tier', 'full', 'kill_self.py']);
    expect(r.code).toBe(143);
  });

  it('records each run with its tier, reasons, wall time and exit status', async () => {
    const dir = tempDir('slime-run-');
    const script = path.join(dir, `record_${process.pid}.py`);
    fs.writeFileSync(script, `print(${process.pid})\nraise SystemExit(3)\n`);
    const r = await runIn(dir, ['--tier', 'full', path.basename(script)]);
    expect(r.code).toBe(3);
    const records = fs.readFileSync(path.join(store, '.slime/runs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mine = records.filter((x) => x.script === fs.realpathSync(script) || x.script === script);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ tier: 'full', requested: 'full', exitCode: 3, signal: null });
    expect(mine[0].wallMs).toBeGreaterThan(0);
    expect(mine[0].scriptHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--explain prints the decision and its reasons, runs nothing, records nothing', async () => {
    const before = fs.existsSync(path.join(store, '.slime/runs.jsonl')) ? fs.readFileSync(path.join(store, '.slime/runs.jsonl'), 'utf8') : '';
    const r = await runIn(FIXTURES, ['--explain', '--tier', 'full', 'exception_message.py']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('exception_message.py: tier: full');
    expect(r.stdout).toMatch(/! exception-text \(line 5\): output may depend on exception text/);
    expect(r.stdout).not.toContain('error: invalid literal');
    const after = fs.existsSync(path.join(store, '.slime/runs.jsonl')) ? fs.readFileSync(path.join(store, '.slime/runs.jsonl'), 'utf8') : '';
    expect(after).toBe(before);
    // auto weighs the Light tier too, so it realizes light-wasm32 first when this store
    // lacks it (a CPython-wasi build): the test waits for that, not for a fixed minute.
    const json = await runIn(FIXTURES, ['--explain', '--json', 'exception_message.py']);
    expect(JSON.parse(json.stdout)).toMatchObject({ tier: expect.stringMatching(/^(full|refused)$/), reasons: expect.any(Array) });
  }, BUILD_TIMEOUT);

  it('refuses the Full tier on --platform wasm, with the reason', async () => {
    const r = await runIn(FIXTURES, ['--tier', 'full', '--platform', 'wasm', 'plain_light.py']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the Full tier is native code and cannot run on --platform wasm');
    expect(r.stdout).toBe('');
  });

  it('rejects bad invocations as usage errors without a stack trace', async () => {
    for (const [args, message] of [
      [['--tier', 'medium', 'x.py'], '--tier must be auto, full or light'],
      [['--budget-ms', '-3', 'x.py'], '--budget-ms must be a positive number'],
      [['--bogus', 'x.py'], 'unknown option --bogus before the script'],
      [[], 'slime run needs a SCRIPT.py'],
      [['no_such_script.py'], 'cannot read script no_such_script.py: no such file'],
      [['.'], 'cannot read script .: it is a directory; slime run takes one Python file'],
    ] as const) {
      const r = await runIn(FIXTURES, [...args]);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
