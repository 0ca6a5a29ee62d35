import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

/**
 * The builders append to a ledger, a file of the test's, which the build sandbox
 * hides from them (as it must): these tests of the scheduler run without it.
 * test/sandbox-*.test.ts show the same guarantees with the sandbox on.
 */
const LEDGER_VISIBLE = { SLIME_SANDBOX: '0' };

/** A module of shell builds; each build appends its name to $LEDGER so the test can see who ran. */
function graphModule(dir: string, body: string): string {
  return writeModule(
    dir,
    'graph.ts',
    `const ledger = ${JSON.stringify(path.join(dir, 'ledger'))};
const sh = (name: string, script: string, env: Record<string, unknown> = {}) =>
  derivation({ name, builder: '/bin/sh', args: ['-c', 'echo ' + name + ' >> $LEDGER; ' + script],
    env: { LEDGER: ledger, ...env } as never, tools: ['cat', 'echo', 'mkdir', 'sleep'] });
${body}`,
  );
}

const ledger = (dir: string) => fs.readFileSync(path.join(dir, 'ledger'), 'utf8').trim().split('\n');

describe('slime realize on a graph', () => {
  it('builds a diamond in dependency order, each derivation once, and reuses it next time', async () => {
    const dir = tempDir();
    const file = graphModule(dir, `
const base = sh('base', 'echo base > $out');
const left = sh('left', 'cat $base > $out; echo left >> $out', { base });
const right = sh('right', 'cat $base > $out; echo right >> $out', { base });
const top = sh('top', 'mkdir $out; cat $left $right > $out/both', { left, right });
export const targets = [target('diamond', 'four builds', [top])];`);
    const store = path.join(dir, 'store');
    const first = await slime(['realize', 'diamond', '-f', file, '--store', store, '-j', '2'], { cwd: dir, env: LEDGER_VISIBLE });
    expect(first.stderr).toContain('4 built');
    expect(first.code).toBe(0);
    const order = ledger(dir);
    expect(order.sort()).toEqual(['base', 'left', 'right', 'top']);
    expect(ledger(dir)[0]).toBe('base');
    expect(ledger(dir)[3]).toBe('top');
    const out = first.stdout.trim();
    expect(out).toMatch(new RegExp(`^${store}/[0-9a-z]{32}-top$`));
    expect(fs.readFileSync(path.join(dir, 'result', 'both'), 'utf8')).toBe('base\nleft\nbase\nright\n');
    expect(fs.statSync(out).mode & 0o222).toBe(0);

    const second = await slime(['realize', 'diamond', '-f', file, '--store', store], { cwd: dir, env: LEDGER_VISIBLE });
    expect(second.code).toBe(0);
    expect(second.stdout.trim()).toBe(out);
    expect(second.stderr).toContain('0 built, 4 cached');
    expect(ledger(dir)).toHaveLength(4);

    // Named twice: realized, printed and linked once.
    const twice = await slime(['realize', 'diamond', 'diamond', '-f', file, '--store', store], { cwd: dir, env: LEDGER_VISIBLE });
    expect(twice.code).toBe(0);
    expect(twice.stdout).toBe(`${out}\n`);
    expect(twice.stderr).toMatch(/derivations for diamond: /);
    expect(fs.existsSync(path.join(dir, 'result-2'))).toBe(false);
    // -o, as nix-build -o.
    expect((await slime(['realize', 'diamond', '-f', file, '--store', store, '-o', 'diamond-link'], { cwd: dir, env: LEDGER_VISIBLE })).code).toBe(0);
    expect(fs.realpathSync(path.join(dir, 'diamond-link'))).toBe(out);
  });

  it('skips the dependents of a failed build, names it with its log, and exits 100', async () => {
    const dir = tempDir();
    const file = graphModule(dir, `
const base = sh('base', 'echo base > $out');
const broken = sh('broken', 'echo partial > $out; echo "compiler exploded" >&2; exit 3', { base });
const after = sh('after', 'cat $broken > $out', { broken });
export const targets = [target('t', 'fails in the middle', [after])];`);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 't', '-f', file, '--store', store], { cwd: dir, env: LEDGER_VISIBLE });
    expect(r.code).toBe(100);
    expect(r.stderr).toMatch(/error: broken failed: builder exited with code 3; log: \S+broken\.drv\.log/);
    expect(r.stderr).toContain('compiler exploded');
    expect(r.stderr).toContain('1 derivation was not built because a dependency failed');
    expect(ledger(dir)).toEqual(['base', 'broken']);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([expect.stringMatching(/-base$/)]);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
    const log = await slime(['log', 'broken', '-f', file, '--store', store], { cwd: dir, env: LEDGER_VISIBLE });
    expect(log.stdout).toContain('compiler exploded');
  });

  it('with --keep-going builds everything that does not depend on the failure', async () => {
    const dir = tempDir();
    // Ordered by a file, not by a clock: slow goes on only once broken has run (and failed).
    // Without --keep-going, slow then never ends by itself: slime must stop it.
    const branches = (slowEnd: string) => `
const mark = ${JSON.stringify(path.join(dir, 'broken-ran'))};
const broken = sh('broken', 'echo > ' + mark + '; exit 1');
const slow = sh('slow', 'until [ -e ' + mark + ' ]; do sleep 0.05; done; ${slowEnd}echo slow > $out');
const after = sh('after', 'cat $slow > $out', { slow });
const doomed = sh('doomed', 'cat $broken > $out', { broken });
export const targets = [target('t', 'two branches', [after, doomed])];`;
    let file = graphModule(dir, branches('sleep 3600; '));
    const store = path.join(dir, 'store');
    const stopped = await slime(['realize', 't', '-f', file, '--store', store, '-j', '2'], { cwd: dir, env: LEDGER_VISIBLE });
    expect(stopped.code).toBe(100);
    expect(ledger(dir).sort()).toEqual(['broken', 'slow']);

    fs.rmSync(path.join(dir, 'ledger'));
    fs.rmSync(path.join(dir, 'broken-ran'));
    file = graphModule(dir, branches(''));
    const going = await slime(['realize', 't', '-f', file, '--store', store, '-j', '2', '--keep-going'], { cwd: dir, env: LEDGER_VISIBLE });
    expect(going.code).toBe(100);
    expect(ledger(dir).sort()).toEqual(['after', 'broken', 'slow']);
    expect(going.stdout.trim()).toMatch(/-after$/);
    expect(going.stderr).toContain('broken failed');
  });

  it('reports a dependency cycle with the names along it', async () => {
    const dir = tempDir();
    const file = graphModule(dir, `
const set = derivationSet({
  a: (get) => sh('a', 'cat $b > $out', { b: get('b') }),
  b: (get) => sh('b', 'cat $c > $out', { c: get('c') }),
  c: (get) => sh('c', 'cat $a > $out', { a: get('a') }),
});
export const targets = [target('loop', 'a cycle', [set.a])];`);
    const r = await slime(['realize', 'loop', '-f', file, '--store', path.join(dir, 'store')], { cwd: dir, env: LEDGER_VISIBLE });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('dependency cycle: a -> b -> c -> a');
    expect(storePaths(path.join(dir, 'store'))).toEqual([]);
  });

  it('rejects an unknown target with the list of targets and exit code 2', async () => {
    const dir = tempDir();
    const file = graphModule(dir, `export const targets = [target('only', 'the one', [sh('x', 'echo > $out')])];`);
    const r = await slime(['realize', 'nope', '-f', file, '--store', path.join(dir, 'store')], { cwd: dir, env: LEDGER_VISIBLE });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown target "nope"');
    expect(r.stderr).toContain('targets are: only');
  });
});
