/**
 * `slime gc --max-freed SIZE` (Nix's option): stops once SIZE bytes are freed, and
 * never deletes a path while a dead path that refers to it stays (the store's closure
 * invariant: `slime verify` still passes after every partial collection).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

describe('gc --max-freed', () => {
  it('frees about what was asked, referrers before what they refer to, and the rest on the next run', async () => {
    const dir = tempDir();
    // big (64 KiB) is referred to by top; each is dead once built without a link.
    const file = writeModule(
      dir,
      'm.ts',
      `const big = derivation({ name: 'big', builder: '/bin/sh', args: ['-c', 'head -c 65536 /dev/zero > $out'], tools: ['head'] });
const top = derivation({ name: 'top', builder: '/bin/sh', args: ['-c', 'echo $big > $out'], env: { big }, tools: ['echo'] });
export const targets = [target('t', 'x', [top])];\n`,
    );
    const store = path.join(dir, 'store');
    expect((await slime(['realize', 't', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const before = storePaths(store).map((p) => p.slice(33)).sort();
    expect(before).toEqual(['big', 'big.drv', 'top', 'top.drv']);

    // One byte: the first path that may go, and only it. big may not go before top (top refers to it).
    const one = await slime(['gc', '--max-freed', '1', '--store', store], { cwd: dir });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/^1 store path deleted, /);
    const afterOne = storePaths(store).map((p) => p.slice(33)).sort();
    expect(afterOne).toHaveLength(3);
    expect(afterOne).toContain('big');
    expect((await slime(['verify', '--store', store], { cwd: dir })).code).toBe(0);

    // 64K: big goes only with top before it; at least 64 KiB freed, so big is gone.
    const more = await slime(['gc', '--max-freed', '64K', '--store', store], { cwd: dir });
    expect(more.code, more.stderr).toBe(0);
    const afterMore = storePaths(store).map((p) => p.slice(33));
    expect(afterMore).not.toContain('big');
    expect(afterMore).not.toContain('top');
    expect((await slime(['verify', '--store', store], { cwd: dir })).code).toBe(0);

    const rest = await slime(['gc', '--store', store], { cwd: dir });
    expect(rest.code).toBe(0);
    expect(storePaths(store)).toEqual([]);

    const bad = await slime(['gc', '--max-freed', '10GB', '--store', store], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: --max-freed must be a number of bytes, optionally with K, M, G or T (e.g. 10G), not "10GB"\n');
  });
});
