/**
 * Store.validSet (what a no-op realize asks about every path of its plan) reads the
 * partial index WellFormedPaths of src/store/db.ts instead of testing each row's form:
 * SQLite keeps that index in step with every write, so a row damaged afterwards (by
 * any SQLite client) is out of it and not valid, as Store.isValid says too. A
 * version-2 database gains the index on open, and a database whose index was dropped
 * by hand still answers, testing each row.
 */
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { SOME_HASH, storeWith } from './support/store.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3');

function sql(dir: string, statement: string, ...params: unknown[]): void {
  const db = new Database(path.join(dir, '.slime/db.sqlite'));
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

function indexes(dir: string): string[] {
  const db = new Database(path.join(dir, '.slime/db.sqlite'), { readonly: true });
  try {
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ValidPaths'").pluck().all() as string[];
  } finally {
    db.close();
  }
}

describe('validity through the index of well-formed rows', () => {
  it('a row damaged after it was written is not valid, whichever of its tests it fails', () => {
    const { dir, paths } = storeWith(['bbbb', 'cccc', 'dddd', 'eeee', 'ffff']);
    expect(indexes(dir)).toContain('WellFormedPaths');
    const [good, badHash, badSize, badTime, shortHash] = paths;
    sql(dir, 'UPDATE ValidPaths SET hash = ? WHERE path = ?', 'garbage', badHash);
    sql(dir, "UPDATE ValidPaths SET narSize = 'big' WHERE path = ?", badSize);
    sql(dir, "UPDATE ValidPaths SET registrationTime = 'yesterday' WHERE path = ?", badTime);
    sql(dir, 'UPDATE ValidPaths SET hash = ? WHERE path = ?', `sha256-${'A'.repeat(42)}*=`, shortHash);
    const store = new Store(dir);
    try {
      expect([...store.validSet(paths)]).toEqual([good]);
      expect(paths.map((p) => store.isValid(p))).toEqual([true, false, false, false, false]);
      // Mended the same way, the row is back in the index.
      sql(dir, 'UPDATE ValidPaths SET hash = ? WHERE path = ?', SOME_HASH, badHash);
      expect(store.validSet(paths)).toEqual(new Set([good, badHash]));
    } finally {
      store.close();
    }
  });

  it('a version-2 database gains the index on open and keeps its paths', () => {
    const { dir, paths } = storeWith(['gggg', 'hhhh']);
    sql(dir, 'DROP INDEX WellFormedPaths');
    sql(dir, 'PRAGMA user_version = 2');
    const store = new Store(dir);
    try {
      expect(store.validSet(paths)).toEqual(new Set(paths));
    } finally {
      store.close();
    }
    expect(indexes(dir)).toContain('WellFormedPaths');
  });

  it('without the index (dropped by hand) each row is tested as before', () => {
    const { dir, paths } = storeWith(['iiii', 'jjjj']);
    sql(dir, 'DROP INDEX WellFormedPaths');
    sql(dir, 'UPDATE ValidPaths SET hash = ? WHERE path = ?', 'garbage', paths[1]);
    const store = new Store(dir);
    try {
      expect(store.validSet(paths)).toEqual(new Set([paths[0]]));
    } finally {
      store.close();
    }
    expect(indexes(dir)).not.toContain('WellFormedPaths');
  });
});
