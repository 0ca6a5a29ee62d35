/**
 * Validity memos (src/store/validity-memo.ts): a question every path of which was valid
 * is answered again without opening the database, for as long as nobody writes it, and
 * never after: a path forgotten by another connection (closed, or still open with its
 * write in the log), a database written less than a second before, another question
 * sharing the memo's file, a damaged memo, a gc between a no-op realize's memo and its
 * links. "Without opening": the database's `-wal` file, which every connection makes
 * and the last one removes, does not appear.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { ValidityMemos } from '../src/store/validity-memo.js';
import { slime, tempDir, writeModule } from './support/cli.js';
import { registerFile, settleDatabase as settle, storeWith } from './support/store.js';

const dbFile = (dir: string) => path.join(dir, '.slime', 'db.sqlite');
const opened = (dir: string) => fs.existsSync(`${dbFile(dir)}-wal`);
const memos = (dir: string) => (fs.existsSync(path.join(dir, '.slime', 'validity')) ? fs.readdirSync(path.join(dir, '.slime', 'validity')) : []);

/** Asks `question` of a new Store (a new process's view), and closes it. */
function ask(dir: string, question: string[]): { valid: string[]; opened: boolean; generation: number } {
  const store = new Store(dir);
  try {
    const { valid, gc } = store.validSnapshot(question);
    return { valid: question.filter((p) => valid.has(p)), opened: opened(dir), generation: gc.generation };
  } finally {
    store.close();
  }
}

describe('validity memos', () => {
  it('keep a settled database\'s answer, and give it again without opening the database', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc', 'dddd']);
    settle(dir);
    expect(ask(dir, paths)).toEqual({ valid: paths, opened: true, generation: 0 });
    expect(memos(dir)).toHaveLength(1);
    expect(ask(dir, paths)).toEqual({ valid: paths, opened: false, generation: 0 });
    // A path asked twice (a source that several derivations share) is answered all the same.
    const twice = [paths[0]!, ...paths];
    expect(ask(dir, twice).opened).toBe(true);
    expect(ask(dir, twice)).toEqual({ valid: twice, opened: false, generation: 0 });
    // A question with a path that is not valid is asked of the database, and not kept.
    const more = [...paths, path.join(dir, `${'e'.repeat(32)}-eeee`)];
    expect(ask(dir, more)).toEqual({ valid: paths, opened: true, generation: 0 });
    expect(memos(dir)).toHaveLength(2);
  });

  it('are not kept for a database written less than a second before', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc']);
    // Its mtime an hour ahead: "less than a second before" however long this test takes.
    const ahead = new Date(Date.now() + 3_600_000);
    fs.utimesSync(dbFile(dir), ahead, ahead);
    expect(ask(dir, paths).valid).toEqual(paths);
    expect(memos(dir)).toEqual([]);
    expect(ask(dir, paths).opened).toBe(true);
  });

  it('are not used once another connection forgot a path and closed', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc', 'dddd']);
    settle(dir);
    ask(dir, paths);
    expect(ask(dir, paths).opened).toBe(false);
    const other = new Store(dir);
    other.forget([paths[1]!]);
    other.close();
    expect(ask(dir, paths)).toMatchObject({ valid: [paths[0], paths[2]], opened: true });
  });

  it('are not used while another connection that forgot a path is still open (its write only in the log)', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc', 'dddd']);
    settle(dir);
    ask(dir, paths);
    const stampBefore = fs.statSync(dbFile(dir)).mtimeMs;
    const other = new Store(dir);
    try {
      other.forget([paths[0]!]);
      // The database file itself is as the memo saw it: only the log beside it tells.
      expect(fs.statSync(dbFile(dir)).mtimeMs).toBe(stampBefore);
      expect(ask(dir, paths).valid).toEqual([paths[1], paths[2]]);
    } finally {
      other.close();
    }
    expect(ask(dir, paths).valid).toEqual([paths[1], paths[2]]);
  });

  it('are not written when another connection committed between the stamp and the query', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc']);
    settle(dir);
    const memo = new ValidityMemos(path.join(dir, '.slime'), dbFile(dir));
    const before = memo.quietStamp()!;
    expect(before).toBeDefined();
    // What the query saw included that commit, which the file with this stamp does not hold.
    const other = new Store(dir);
    try {
      registerFile(other, path.join(dir, `${'g'.repeat(32)}-gggg`));
      memo.remember(paths, before, 0);
      expect(memos(dir)).toEqual([]);
    } finally {
      other.close();
    }
    // Closed, the commit is in the file: its stamp moved, and still no memo for `before`.
    memo.remember(paths, before, 0);
    expect(memos(dir)).toEqual([]);
  });

  it('answer only the question they hold, though another shares their file', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc', 'dddd', 'ffff']);
    const [first, middle, last, other] = paths as [string, string, string, string];
    settle(dir);
    ask(dir, [first, middle, last]);
    expect(memos(dir)).toHaveLength(1);
    // Same length, first and last path: the same file. Its middle path is not valid.
    const missing = path.join(dir, `${'e'.repeat(32)}-eeee`);
    expect(ask(dir, [first, missing, last])).toMatchObject({ valid: [first, last], opened: true });
    // Another valid question takes the file; the first is asked of the database again, and right.
    ask(dir, [first, other, last]);
    expect(memos(dir)).toHaveLength(1);
    expect(ask(dir, [first, other, last]).opened).toBe(false);
    expect(ask(dir, [first, middle, last])).toEqual({ valid: [first, middle, last], opened: true, generation: 0 });
  });

  it('that are damaged are misses', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc']);
    settle(dir);
    ask(dir, paths);
    const file = path.join(dir, '.slime', 'validity', memos(dir)[0]!);
    const text = fs.readFileSync(file, 'latin1');
    for (const damaged of ['', text.slice(0, 30), text.replace('slime validity memo 1', 'slime validity memo 9'), text.replace(/\n0\n/, '\nzero\n'), text.replace(/\n0\n/, '\n\n'), `${text}\n`]) {
      fs.writeFileSync(file, damaged, 'latin1');
      expect(ask(dir, paths)).toEqual({ valid: paths, opened: true, generation: 0 });
      // The miss wrote the memo again.
      expect(fs.readFileSync(file, 'latin1')).toBe(text);
    }
  });

  it('give the gc generation of their moment, and a gc since is seen', () => {
    const { dir, paths } = storeWith(['bbbb']);
    settle(dir);
    ask(dir, paths);
    const store = new Store(dir);
    try {
      expect(store.validSnapshot(paths).gc).toEqual({ generation: 0, collecting: false });
      expect(opened(dir)).toBe(false);
      const gc = new Store(dir);
      gc.db.beginCollection();
      expect(store.gcState()).toEqual({ generation: 1, collecting: true });
      gc.db.endCollection();
      gc.close();
      expect(store.gcState()).toEqual({ generation: 1, collecting: false });
    } finally {
      store.close();
    }
  });

  it(`are at most ${32} in a store, the oldest going first`, () => {
    const names = Array.from({ length: 40 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    const { dir, paths } = storeWith(names);
    settle(dir);
    for (const p of paths) ask(dir, [p]);
    expect(memos(dir)).toHaveLength(32);
    expect(ask(dir, [paths.at(-1)!]).opened).toBe(false);
  });
});

describe('a no-op realize answered by a memo', () => {
  it('builds again what a gc deleted after the memo was written', async () => {
    const dir = tempDir();
    const file = writeModule(
      dir,
      'm.ts',
      `const a = derivation({ name: 'a', builder: '/bin/sh', args: ['-c', 'echo a > $out'] });
export const b = derivation({ name: 'b', builder: '/bin/sh', args: ['-c', 'echo $a > $out'], env: { a } });
export const targets = [target('b', 'b', [b])];`,
    );
    const store = path.join(dir, 'store');
    const realize = () => slime(['realize', 'b', '-f', file, '--store', store, '--no-link', '--no-sandbox'], { cwd: dir });
    expect((await realize()).stderr).toMatch(/2 built/);
    settle(store);
    expect((await realize()).stderr).toMatch(/0 built, 2 cached/);
    expect(memos(store)).toHaveLength(1);
    expect((await realize()).stderr).toMatch(/0 built, 2 cached/);
    const gc = await slime(['gc', '--store', store], { cwd: dir });
    expect(gc.code).toBe(0);
    expect(gc.stderr).toMatch(/deleted/);
    const again = await realize();
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/2 built, 0 cached/);
    expect(fs.readFileSync(again.stdout.trim(), 'utf8')).toMatch(/-a\n$/);
  });
});
