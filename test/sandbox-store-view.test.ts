/**
 * The sandbox's kept directories (src/builder/sandbox.ts), on real files: a set given
 * back and taken again has an empty staging directory and a store view holding exactly
 * the next closure, and a path that was deleted and added again between two builds (a
 * repair, gc and a rebuild) is linked afresh, not shown as the inode the view linked
 * before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillStoreView, giveBackSandboxDirs, releaseSandboxDirs, takeSandboxDirs } from '../src/builder/sandbox.js';
import { tempDir } from './support/cli.js';

function storeWith(files: Record<string, string>, dirs: string[]): string {
  const store = path.join(tempDir(), 'store');
  fs.mkdirSync(path.join(store, '.slime', 'tmp'), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(store, name), text);
    fs.chmodSync(path.join(store, name), 0o444);
  }
  for (const d of dirs) fs.mkdirSync(path.join(store, d, 'sub'), { recursive: true });
  return store;
}

const shown = (dir: string) => fs.readdirSync(dir).filter((e) => e !== '.slime').sort();

describe('kept sandbox directories', () => {
  it('hold exactly the closure of each build they serve, and link a replaced path afresh', () => {
    const store = storeWith({ 'aaa-a': 'first a\n', 'bbb-b': 'b\n' }, ['ddd-d']);
    const tmp = path.join(store, '.slime', 'tmp');
    const p = (name: string) => path.join(store, name);

    const view = takeSandboxDirs(tmp);
    expect(fillStoreView(view, [p('aaa-a'), p('ddd-d')])).toEqual([p('ddd-d')]);
    expect(shown(view.store)).toEqual(['aaa-a']);
    expect(fs.statSync(path.join(view.store, 'aaa-a')).ino).toBe(fs.statSync(p('aaa-a')).ino);
    // What bubblewrap leaves: the mount point of the directory it bound; and what the
    // builder left beside its output.
    fs.mkdirSync(path.join(view.store, 'ddd-d'));
    fs.mkdirSync(path.join(view.staging, 'left', 'over'), { recursive: true });
    giveBackSandboxDirs(view);
    expect(fs.readdirSync(view.staging)).toEqual([]);

    // The path is deleted and added again with other bytes, as a repair does.
    fs.rmSync(p('aaa-a'), { force: true });
    fs.writeFileSync(p('aaa-a'), 'repaired a\n');
    const again = takeSandboxDirs(tmp);
    expect(again.store).toBe(view.store);
    expect(fillStoreView(again, [p('aaa-a'), p('bbb-b'), p('gone-g')])).toEqual([]);
    expect(shown(again.store)).toEqual(['aaa-a', 'bbb-b']);
    expect(fs.readFileSync(path.join(again.store, 'aaa-a'), 'utf8')).toBe('repaired a\n');

    expect(fillStoreView(again, [p('bbb-b')])).toEqual([]);
    expect(shown(again.store)).toEqual(['bbb-b']);
    giveBackSandboxDirs(again);

    // Two builds at once get two views.
    const first = takeSandboxDirs(tmp);
    const second = takeSandboxDirs(tmp);
    expect(second.store).not.toBe(first.store);
    giveBackSandboxDirs(first);
    giveBackSandboxDirs(second);

    releaseSandboxDirs();
    expect(fs.readdirSync(tmp)).toEqual([]);
    // The store's own paths are untouched.
    expect(fs.readFileSync(p('bbb-b'), 'utf8')).toBe('b\n');
  });

  it('are made again when something emptied the tmp dir between builds (slime gc)', () => {
    const store = storeWith({ 'aaa-a': 'a\n' }, []);
    const tmp = path.join(store, '.slime', 'tmp');
    const view = takeSandboxDirs(tmp);
    fillStoreView(view, [path.join(store, 'aaa-a')]);
    giveBackSandboxDirs(view);
    for (const e of fs.readdirSync(tmp)) fs.rmSync(path.join(tmp, e), { recursive: true, force: true });
    const fresh = takeSandboxDirs(tmp);
    expect(fs.existsSync(path.join(fresh.store, '.slime', 'tmp'))).toBe(true);
    expect(fillStoreView(fresh, [path.join(store, 'aaa-a')])).toEqual([]);
    expect(shown(fresh.store)).toEqual(['aaa-a']);
    releaseSandboxDirs();
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});
