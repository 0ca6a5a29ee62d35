/**
 * A shared build directory (`slimeBuildDir`: a PGO profile and its optimized build) is
 * the user's, not a store's: two stores building derivations that share one must take
 * turns, or the second would wipe the first's build tree under it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collect, startSlime, tempDir, writeModule } from './support/cli.js';
import { waitFor } from './support/processes.js';

/** The builders append to a ledger outside the store: run without the sandbox, which hides it. */
const LEDGER_VISIBLE = { SLIME_SANDBOX: '0' };

describe('a build directory shared by name', () => {
  it('is used by one build at a time across stores: the second waits for the first', async () => {
    const dir = tempDir();
    const ledger = path.join(dir, 'ledger');
    const release = path.join(dir, 'release');
    const moduleFor = (tag: string) => writeModule(
      dir,
      `shared-${tag}.ts`,
      `export const profile = derivation({
  name: 'uses-shared-dir', builder: '/bin/sh', tools: ['echo', 'mkdir', 'sleep', 'cat'],
  args: ['-c', 'echo "start $STORE_TAG" >> $LEDGER; echo $STORE_TAG > $PWD/owner; until [ -e $RELEASE ]; do sleep 0.05; done; ' +
    'mkdir $out; cat $PWD/owner > $out/owner; echo "end $STORE_TAG" >> $LEDGER'],
  env: { LEDGER: ${JSON.stringify(ledger)}, RELEASE: ${JSON.stringify(release)}, STORE_TAG: '${tag}', slimeBuildDir: ${JSON.stringify(`test-shared-${path.basename(dir)}`)} },
});
export const targets = [target('shared', 'one build in a shared build directory', [profile])];
`,
    );
    const run = (tag: string) =>
      startSlime(['realize', 'shared', '-f', moduleFor(tag), '--store', path.join(dir, `store-${tag}`), '--log-format', 'json', '--no-link'], {
        cwd: dir,
        env: LEDGER_VISIBLE,
      });
    const a = run('a');
    const doneA = collect(a);
    await waitFor(() => fs.existsSync(ledger) && fs.readFileSync(ledger, 'utf8').includes('start a'), 120_000, 'the first build started');
    const b = run('b');
    let bStderr = '';
    b.stderr!.on('data', (d) => (bStderr += d));
    const doneB = collect(b);
    // b is seen waiting for the directory's lock while a holds it.
    await waitFor(() => bStderr.includes('"lock-wait"'), 120_000, 'the second build waiting for the lock');
    expect(fs.readFileSync(ledger, 'utf8')).toBe('start a\n');
    fs.writeFileSync(release, '');
    const [ra, rb] = await Promise.all([doneA, doneB]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(fs.readFileSync(ledger, 'utf8')).toBe('start a\nend a\nstart b\nend b\n');
    // Each build saw only its own tree: a's owner file was not overwritten by b mid-build.
    const owner = (tag: string) => {
      const out = fs.readdirSync(path.join(dir, `store-${tag}`)).find((n) => n.endsWith('-uses-shared-dir'))!;
      return fs.readFileSync(path.join(dir, `store-${tag}`, out, 'owner'), 'utf8');
    };
    expect([owner('a'), owner('b')]).toEqual(['a\n', 'b\n']);
  }, 300_000);
});
