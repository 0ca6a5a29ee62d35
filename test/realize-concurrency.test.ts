import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, slime, startSlime, storePaths, tempDir, writeModule } from './support/cli.js';
import { waitFor } from './support/processes.js';

/**
 * The builders append to a ledger, a file of the test's, which the build sandbox
 * hides from them (as it must): these tests of the scheduler run without it.
 * test/sandbox-*.test.ts show the same guarantees with the sandbox on.
 */
const LEDGER_VISIBLE = { SLIME_SANDBOX: '0' };

/** `first` holds for `seconds`, or, given a file, until that file exists. */
function slowChain(dir: string, seconds: number | { until: string }): string {
  const hold = typeof seconds === 'number' ? `sleep ${seconds}` : `until [ -e ${seconds.until} ]; do sleep 0.05; done`;
  return writeModule(
    dir,
    'chain.ts',
    `const ledger = ${JSON.stringify(path.join(dir, 'ledger'))};
const sh = (name: string, script: string, env: Record<string, unknown> = {}) =>
  derivation({ name, builder: '/bin/sh', args: ['-c', 'echo ' + name + ' >> $LEDGER; ' + script],
    env: { LEDGER: ledger, ...env } as never, tools: ['cat', 'echo', 'mkdir', 'sleep', 'seq'] });
const first = sh('first', 'mkdir $out; for i in $(seq 1 20); do echo $i > $out/f$i; done; echo > $WRITTEN; ${hold}; echo done > $out/last',
  { WRITTEN: ${JSON.stringify(path.join(dir, 'partly-written'))} });
const second = sh('second', 'cat $first/last > $out', { first });
export const targets = [target('chain', 'two slow builds', [second])];`,
  );
}

describe('several slime processes on one store', () => {
  it('two concurrent realizes build each derivation exactly once and both succeed', async () => {
    const dir = tempDir();
    // The first build holds until the other process is seen waiting for its lock: the
    // two overlap by construction, not because a sleep outlasted the other's start.
    const gate = path.join(dir, 'gate');
    const file = slowChain(dir, { until: gate });
    const store = path.join(dir, 'store');
    const args = ['realize', 'chain', '-f', file, '--store', store, '--no-link', '--log-format', 'json'];
    const children = [0, 1].map(() => startSlime(args, { cwd: dir, env: LEDGER_VISIBLE }));
    let seen = '';
    for (const c of children) c.stderr!.on('data', (d) => (seen += d));
    const results = Promise.all(children.map((c) => collect(c)));
    await waitFor(() => seen.includes('"type":"lock-wait"'), 120_000, 'the second realize waits for the lock');
    fs.writeFileSync(gate, '');
    const [a, b] = await results;
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const ledger = fs.readFileSync(path.join(dir, 'ledger'), 'utf8').trim().split('\n');
    expect(ledger.sort()).toEqual(['first', 'second']);
    const events = [...a.stderr.split('\n'), ...b.stderr.split('\n')].filter(Boolean).map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'built')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'cached')).toHaveLength(2);
    expect(events.some((e) => e.type === 'lock-wait')).toBe(true);
  });

  it('after SIGKILL mid-build, no partial path is in the store and a rerun succeeds', async () => {
    const dir = tempDir();
    const file = slowChain(dir, 30);
    const store = path.join(dir, 'store');
    const child = startSlime(['realize', 'chain', '-f', file, '--store', store, '--log-format', 'json'], { cwd: dir, env: LEDGER_VISIBLE });
    const done = collect(child);
    // Killed with part of its output written, whatever the machine's load.
    await waitFor(() => fs.existsSync(path.join(dir, 'partly-written')), 120_000, 'the builder has written part of its output');
    child.kill('SIGKILL');
    await done;
    const outputs = storePaths(store).filter((p) => !p.endsWith('.drv'));
    expect(outputs).toEqual([]);

    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('sleep 30', 'sleep 0'));
    const rerun = await slime(['realize', 'chain', '-f', file, '--store', store], { cwd: dir, env: LEDGER_VISIBLE });
    expect(rerun.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'result'), 'utf8')).toBe('done\n');
  });

  it('Ctrl-C stops the builds, keeps nothing partial and exits 130', async () => {
    const dir = tempDir();
    const file = slowChain(dir, 30);
    const store = path.join(dir, 'store');
    const child = startSlime(['realize', 'chain', '-f', file, '--store', store], { cwd: dir, env: LEDGER_VISIBLE });
    const done = collect(child);
    await waitFor(() => fs.existsSync(path.join(dir, 'ledger')), 120_000, 'the builder runs');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([]);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
  });
});
