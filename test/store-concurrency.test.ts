/**
 * Several slime processes on one fresh store, as a team or CI shares one: every run
 * succeeds, every derivation is built exactly once (a ledger appended by the builders
 * says who ran), and the store verifies clean afterwards. And a SIGKILLed lock holder
 * never lets its derivation run twice at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, slime, startSlime, tempDir, writeModule } from './support/cli.js';
import { waitFor } from './support/processes.js';

/**
 * The builders append to a ledger, a file of the test's, which the build sandbox
 * hides from them (as it must): these tests run without it. test/sandbox-faults.test.ts
 * shows the SIGKILLed lock holder's case with the sandbox on, its ledger a TCP server.
 */
const LEDGER_VISIBLE = { SLIME_SANDBOX: '0' };

/** A toy graph: a source, a diamond of tiny /bin/sh builds over it, and a fixed-output one. */
function toyGraph(dir: string): string {
  fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', 'input.txt'), 'the source\n');
  return writeModule(
    dir,
    'toy.ts',
    `const ledger = ${JSON.stringify(path.join(dir, 'ledger'))};
const sh = (name: string, script: string, env: Record<string, unknown> = {}) =>
  derivation({ name, builder: '/bin/sh', args: ['-c', 'echo ' + name + ' >> $LEDGER; ' + script],
    env: { LEDGER: ledger, ...env } as never, tools: ['cat', 'echo', 'mkdir'] });
const src = source(${JSON.stringify(dir)}, 'src');
const base = sh('base', 'mkdir $out; cat $src/input.txt > $out/data', { src });
const left = sh('left', 'cat $base/data > $out; echo left >> $out', { base });
const right = sh('right', 'cat $base/data > $out; echo right >> $out', { base });
const top = sh('top', 'mkdir $out; cat $left $right > $out/both', { left, right });
export const targets = [target('toy', 'a diamond over a source', [top])];`,
  );
}

async function concurrentRuns(n: number, rounds: number): Promise<void> {
  const dir = tempDir();
  const file = toyGraph(dir);
  for (let round = 0; round < rounds; round++) {
    const store = path.join(dir, `store-${round}`);
    fs.rmSync(path.join(dir, 'ledger'), { force: true });
    const args = ['realize', 'toy', '-f', file, '--store', store, '--no-link', '--log-format', 'json'];
    const runs = await Promise.all(Array.from({ length: n }, () => slime(args, { cwd: dir, env: LEDGER_VISIBLE })));
    for (const r of runs) {
      expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('{'))).toEqual([]);
      expect(r.code, `round ${round}: ${r.stderr.split('\n').filter((l) => !l.includes('"type":"log"')).slice(-6).join('\n')}`).toBe(0);
      expect(r.stdout).toBe(runs[0].stdout);
    }
    const ledger = fs.readFileSync(path.join(dir, 'ledger'), 'utf8').trim().split('\n').sort();
    expect(ledger, `round ${round}: each derivation built once`).toEqual(['base', 'left', 'right', 'top']);
    const verify = await slime(['verify', '--store', store]);
    expect(verify.stderr).toMatch(/: 0 problems?,/);
    expect(verify.code).toBe(0);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
    fs.rmSync(store, { recursive: true, force: true });
    // How far a run got, when a loaded machine makes it outlast its timeout.
    console.log(`store-concurrency: ${n} processes, round ${round + 1} of ${rounds} passed`);
  }
}

describe('concurrent slime realize on a fresh store', () => {
  it('4 processes, 20 times: all exit 0, each derivation built once, verify clean', async () => {
    await concurrentRuns(4, 20);
    // A round takes seconds on an idle machine and about a minute next to a CPython build.
  }, 3_600_000);

  it('8 processes, 20 times: all exit 0, each derivation built once, verify clean', async () => {
    await concurrentRuns(8, 20);
  }, 3_600_000);
});

describe('SIGKILL of the process that holds a derivation lock', () => {
  it('the waiting process builds only once the old builder is gone: never two builders at once', async () => {
    const dir = tempDir();
    const ledger = path.join(dir, 'ledger');
    const file = writeModule(
      dir,
      'slow.ts',
      `const slow = derivation({ name: 'slow', builder: '/bin/sh', tools: ['echo', 'sleep', 'mkdir'],
  // Each builder names itself by a random id: its pid is the same in every build (2, under its PID namespace's init).
  args: ['-c', 'read id < /proc/sys/kernel/random/uuid; echo start $id >> $LEDGER; i=0; while [ $i -lt 100 ]; do echo tick $id >> $LEDGER; sleep 0.2; i=$((i+1)); done; echo end $id >> $LEDGER; mkdir $out'],
  env: { LEDGER: ${JSON.stringify(ledger)} } });
export const targets = [target('slow', 'one slow build', [slow])];`,
    );
    const store = path.join(dir, 'store');
    const args = ['realize', 'slow', '-f', file, '--store', store, '--no-link', '--log-format', 'json'];
    const holder = startSlime(args, { cwd: dir, env: LEDGER_VISIBLE });
    const holderDone = collect(holder);
    await waitFor(() => fs.existsSync(ledger) && fs.readFileSync(ledger, 'utf8').includes('tick'), 120_000, 'the first builder runs');
    const waiter = startSlime(args, { cwd: dir, env: LEDGER_VISIBLE });
    let waiterErr = '';
    waiter.stderr!.on('data', (d) => (waiterErr += d));
    const waiterDone = collect(waiter);
    await waitFor(() => waiterErr.includes('"lock-wait"'), 120_000, 'the second process waits for the lock');
    holder.kill('SIGKILL');
    await holderDone;
    const r = await waiterDone;
    expect(r.code).toBe(0);

    const lines = fs.readFileSync(ledger, 'utf8').trim().split('\n');
    const starts = lines.filter((l) => l.startsWith('start '));
    expect(starts).toHaveLength(2);
    const [first, second] = starts.map((l) => l.split(' ')[1]);
    // Once the second builder started, the first one never wrote again.
    const after = lines.slice(lines.indexOf(`start ${second}`));
    expect(after.filter((l) => l.endsWith(` ${first}`))).toEqual([]);
    expect(lines).toContain(`end ${second}`);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 300_000);
});
