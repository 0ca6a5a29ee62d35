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
    // The builders append to a ledger on the host: without the sandbox (which hides it).
    const args = ['realize', 'toy', '-f', file, '--store', store, '--no-link', '--log-format', 'json', '--no-sandbox'];
    const runs = await Promise.all(Array.from({ length: n }, () => slime(args, { cwd: dir })));
    for (const r of runs) {
      expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('{'))).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(runs[0].stdout);
    }
    const ledger = fs.readFileSync(path.join(dir, 'ledger'), 'utf8').trim().split('\n').sort();
    expect(ledger, `round ${round}: each derivation built once`).toEqual(['base', 'left', 'right', 'top']);
    const verify = await slime(['verify', '--store', store]);
    expect(verify.stderr).toMatch(/: 0 problems?,/);
    expect(verify.code).toBe(0);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
    fs.rmSync(store, { recursive: true, force: true });
  }
}

describe('concurrent slime realize on a fresh store', () => {
  it('4 processes, 20 times: all exit 0, each derivation built once, verify clean', async () => {
    await concurrentRuns(4, 20);
  }, 1_800_000);

  it('8 processes, 20 times: all exit 0, each derivation built once, verify clean', async () => {
    await concurrentRuns(8, 20);
  }, 2_400_000);
});

const waitFor = async (cond: () => boolean, what: string, ms = 120_000) => {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`${what}: not reached in ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('SIGKILL of the process that holds a derivation lock', () => {
  it('the waiting process builds only once the old builder is gone: never two builders at once', async () => {
    const dir = tempDir();
    const ledger = path.join(dir, 'ledger');
    const release = path.join(dir, 'release');
    // Each builder ticks until the test releases it: the first one would tick on forever
    // (its process group outlives a SIGKILLed slime) unless the next lock holder ends it.
    const file = writeModule(
      dir,
      'slow.ts',
      `const slow = derivation({ name: 'slow', builder: '/bin/sh', tools: ['echo', 'sleep', 'mkdir'],
  args: ['-c', 'echo start $$ >> $LEDGER; i=0; while [ ! -e $RELEASE ] && [ $i -lt 3000 ]; do echo tick $$ >> $LEDGER; sleep 0.2; i=$((i+1)); done; echo end $$ >> $LEDGER; mkdir $out'],
  env: { LEDGER: ${JSON.stringify(ledger)}, RELEASE: ${JSON.stringify(release)} } });
export const targets = [target('slow', 'one slow build', [slow])];`,
    );
    const store = path.join(dir, 'store');
    // Without the sandbox: the orphan check is what protects an unsandboxed build (in the
    // sandbox the builder dies with slime, see sandbox-faults.test.ts), and the ledger is on the host.
    const args = ['realize', 'slow', '-f', file, '--store', store, '--no-link', '--log-format', 'json', '--no-sandbox'];
    const lines = () => (fs.existsSync(ledger) ? fs.readFileSync(ledger, 'utf8').trim().split('\n') : []);
    const holder = startSlime(args, { cwd: dir });
    const holderDone = collect(holder);
    await waitFor(() => lines().some((l) => l.startsWith('tick')), 'the first builder runs');
    const waiter = startSlime(args, { cwd: dir });
    let waiterErr = '';
    waiter.stderr!.on('data', (d) => (waiterErr += d));
    const waiterDone = collect(waiter);
    await waitFor(() => waiterErr.includes('"lock-wait"'), 'the second process waits for the lock');
    holder.kill('SIGKILL');
    await holderDone;
    // Let the second builder tick a few times: a first builder still alive would tick too.
    const secondStart = () => lines().filter((l) => l.startsWith('start '))[1];
    await waitFor(() => {
      if (waiter.exitCode !== null) throw new Error(`the second process exited with ${waiter.exitCode} before building: ${waiterErr}`);
      return secondStart() !== undefined;
    }, 'the second builder starts');
    const second = secondStart()!.split(' ')[1];
    await waitFor(() => lines().filter((l) => l === `tick ${second}`).length >= 5, 'the second builder ticks');
    fs.writeFileSync(release, '');
    const r = await waiterDone;
    expect(r.code).toBe(0);

    const all = lines();
    const first = all.find((l) => l.startsWith('start '))!.split(' ')[1];
    expect(first).not.toBe(second);
    // Once the second builder started, the first one never wrote again.
    const after = all.slice(all.indexOf(`start ${second}`));
    expect(after.filter((l) => l.endsWith(` ${first}`))).toEqual([]);
    expect(all).toContain(`end ${second}`);
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  }, 300_000);
});
