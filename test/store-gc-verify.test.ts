import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

function twoTargets(dir: string): string {
  return writeModule(dir, 'two.ts', `
export const lib = derivation({ name: 'lib', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir $out; echo lib > $out/data'] });
export const app = derivation({ name: 'app', builder: '/bin/sh', tools: ['cat'], args: ['-c', 'echo "uses $lib" > $out'], env: { lib } });
export const other = derivation({ name: 'other', builder: '/bin/sh', args: ['-c', 'echo other > $out'] });
export const targets = [target('app', 'app and its lib', [app]), target('other', 'unrelated', [other])];`);
}

describe('slime gc', () => {
  it('keeps the closure of result links and .roots, deletes the rest', async () => {
    const dir = tempDir();
    const file = twoTargets(dir);
    const store = path.join(dir, 'store');
    expect((await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir })).code).toBe(0);
    expect((await slime(['realize', 'other', '-f', file, '--store', store, '--out-link', 'other-result'], { cwd: dir })).code).toBe(0);
    const before = storePaths(store);
    expect(before.filter((p) => !p.endsWith('.drv'))).toHaveLength(3);

    fs.rmSync(path.join(dir, 'other-result'));
    const dry = await slime(['gc', '--dry-run', '--store', store]);
    expect(dry.stdout).toMatch(/would delete \S+-other\n/);
    expect(storePaths(store)).toEqual(before);

    const gc = await slime(['gc', '--store', store]);
    expect(gc.code).toBe(0);
    const after = storePaths(store);
    expect(after.some((p) => p.endsWith('-app'))).toBe(true);
    expect(after.some((p) => p.endsWith('-lib'))).toBe(true);
    expect(after.some((p) => p.endsWith('-other'))).toBe(false);

    fs.rmSync(path.join(dir, 'result'));
    const appPath = path.join(store, after.find((p) => p.endsWith('-app'))!);
    fs.mkdirSync(path.join(store, '.roots'), { recursive: true });
    fs.symlinkSync(appPath, path.join(store, '.roots', 'keep-app'));
    await slime(['gc', '--store', store]);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv')).map((p) => p.slice(33)).sort()).toEqual(['app', 'lib']);
  });

  it('empties .slime/tmp in place: the directory a concurrent command just created is never removed', async () => {
    const dir = tempDir();
    const file = twoTargets(dir);
    const store = path.join(dir, 'store');
    expect((await slime(['realize', 'other', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const tmp = path.join(store, '.slime', 'tmp');
    // A crashed build's leftover, read-only as store paths are.
    fs.mkdirSync(path.join(tmp, 'leftover', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'leftover', 'sub', 'file'), 'x');
    fs.chmodSync(path.join(tmp, 'leftover', 'sub'), 0o555);
    fs.writeFileSync(path.join(tmp, 'stray'), 'y');
    const inode = fs.statSync(tmp).ino;
    const gc = await slime(['gc', '--store', store]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(fs.statSync(tmp).ino).toBe(inode);
  });
});

describe('slime verify', () => {
  it('reports a corrupted path and --repair rebuilds it from its .drv', async () => {
    const dir = tempDir();
    const file = twoTargets(dir);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'app', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(0);
    expect((await slime(['verify', '--store', store])).code).toBe(0);

    const lib = path.join(store, storePaths(store).find((p) => p.endsWith('-lib'))!);
    fs.chmodSync(path.join(lib), 0o755);
    fs.chmodSync(path.join(lib, 'data'), 0o644);
    fs.writeFileSync(path.join(lib, 'data'), 'corrupted\n');
    const bad = await slime(['verify', '--store', store]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${lib}: contents changed`);

    const repaired = await slime(['verify', '--repair', '--store', store]);
    expect(repaired.stderr).toContain('repaired');
    expect(repaired.code).toBe(0);
    expect(fs.readFileSync(path.join(lib, 'data'), 'utf8')).toBe('lib\n');
    expect((await slime(['verify', '--store', store])).code).toBe(0);
  });
});
