/** gc keeps the .drv of every live output (Nix's keep-derivations), and verify says how to repair. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

describe('gc keep-derivations', () => {
  it('keeps the .drv files of live outputs (and their input .drvs), deletes the others', async () => {
    const dir = tempDir();
    const file = writeModule(
      dir,
      'm.ts',
      `const base = derivation({ name: 'base', builder: '/bin/sh', args: ['-c', 'echo base > $out'] });
const app = derivation({ name: 'app', builder: '/bin/sh', args: ['-c', 'cat $base > $out'], env: { base }, tools: ['cat'] });
const other = derivation({ name: 'other', builder: '/bin/sh', args: ['-c', 'echo other > $out'] });
export const targets = [target('app', 'x', [app]), target('other', 'y', [other])];\n`,
    );
    const store = path.join(dir, 'store');
    expect((await slime(['realize', 'other', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    expect((await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir })).code).toBe(0);
    const gc = await slime(['gc', '--store', store], { cwd: dir });
    expect(gc.code).toBe(0);
    const names = storePaths(store).map((p) => p.slice(33)).sort();
    // app is live through ./result and references nothing; its .drv and base's .drv stay.
    expect(names).toEqual(['app', 'app.drv', 'base.drv']);
    // other, other.drv, and base (app copied its text, so does not refer to it).
    expect(gc.stderr).toMatch(/^3 store paths deleted, [\d.]+ MiB freed; 3 paths kept alive by 1 root\n$/);
  });

  it('verify finding corruption suggests --repair', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `export const targets = [target('t', 'x', [derivation({ name: 'one', builder: '/bin/sh', args: ['-c', 'echo one > $out'] })])];\n`);
    const store = path.join(dir, 'store');
    const out = (await slime(['realize', 't', '-f', file, '--store', store, '--no-link'], { cwd: dir })).stdout.trim();
    fs.chmodSync(out, 0o644);
    fs.writeFileSync(out, 'tampered\n');
    const r = await slime(['verify', '--store', store], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checked 2 paths: 1 problem, 0 repaired\n/);
    expect(r.stderr).toContain('note: run `slime verify --repair` to fix them: it rebuilds');
  });
});
