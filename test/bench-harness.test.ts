/**
 * The measuring harness of `slime bench` with real processes: wall time and the
 * child's own CPU time from wait4, exit statuses and signals, the exact environment
 * and working directory, and a real cachegrind run whose instruction count repeats.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Harness } from '../src/bench/harness.js';
import { countInstructions, ENV } from '../src/bench/run-bench.js';
import { tempDir } from './support/cli.js';

const harness = new Harness();
afterAll(() => harness.close());

describe('Harness', () => {
  it("measures the child's CPU time, not the harness's: a busy loop's user time shows, a sleep's does not", async () => {
    const busy = await harness.run(['/bin/sh', '-c', 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done'], '/', {});
    expect(busy.status).toBe(0);
    expect(busy.userMs).toBeGreaterThan(20);
    // One thread cannot use more CPU than time passed (1 ms slack for rounding).
    expect(busy.userMs + busy.sysMs).toBeLessThanOrEqual(busy.wallMs + 1);
    const idle = await harness.run(['/bin/sleep', '0.3'], '/', {});
    expect(idle.wallMs).toBeGreaterThanOrEqual(300);
    expect(idle.userMs + idle.sysMs).toBeLessThan(100);
    expect(idle.maxRssKb).toBeGreaterThan(0);
  });

  it('reports exit codes, and -N for a death by signal N', async () => {
    expect((await harness.run(['/bin/sh', '-c', 'exit 3'], '/', {})).status).toBe(3);
    expect((await harness.run(['/bin/sh', '-c', 'kill -TERM $$'], '/', {})).status).toBe(-15);
  });

  it('gives exactly the environment and the working directory asked for, and /dev/null as stdio', async () => {
    const dir = tempDir();
    const check = '[ "$A" = 1 ] && [ -z "${HOME-}" ] && [ "$(pwd)" = "$0" ] && [ "$(readlink /proc/$$/fd/1)" = /dev/null ] && [ "$(readlink /proc/$$/fd/0)" = /dev/null ]';
    expect((await harness.run(['/bin/sh', '-c', check, dir], dir, { A: '1', PATH: '/usr/bin:/bin' })).status).toBe(0);
    expect((await harness.run(['/bin/sh', '-c', check, dir], dir, { A: '2', PATH: '/usr/bin:/bin' })).status).toBe(1);
  });

  it('rejects a program that cannot be started, naming it, and keeps serving', async () => {
    // Missing paths inside a fresh directory: a name like /nonexistent could exist on a shared machine.
    const missing = path.join(tempDir(), 'missing');
    await expect(harness.run([`${missing}/python`], '/', {})).rejects.toThrow(new RegExp(`cannot run ${missing}/python: .*No such file`));
    await expect(harness.run(['/bin/true'], missing, {})).rejects.toThrow(new RegExp(missing));
    expect((await harness.run(['/bin/true'], '/', {})).status).toBe(0);
  });
});

describe('countInstructions (real cachegrind)', () => {
  it('counts a python start-up, and the count repeats to 0.1% (it does not move with load)', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'empty.py');
    fs.writeFileSync(script, '');
    const python = { label: 'python3.11', command: '/usr/bin/python3.11' };
    const rows = await countInstructions({
      interpreters: [python, { ...python, label: 'python3.11 again' }],
      workloads: [{ name: 'start-up', kind: 'startup', script, args: [], cwd: dir, expectStatus: 0 }],
      harness,
      workDir: path.join(dir, 'cg'),
    });
    expect(rows).toHaveLength(2);
    expect(rows[0].events.Ir).toBeGreaterThan(5_000_000);
    expect(rows[0].events.Bc).toBeGreaterThan(0);
    expect(rows[0].events.I1mr).toBeGreaterThan(0);
    expect(rows[0].ratio).toBe(1);
    expect(Math.abs(rows[1].ratio - 1)).toBeLessThan(0.001);
    expect(fs.readdirSync(path.join(dir, 'cg')).sort()).toEqual(['startup-0.cachegrind.out', 'startup-1.cachegrind.out']);
    expect(ENV.PYTHONHASHSEED).toBe('0');
  }, 300_000);
});
