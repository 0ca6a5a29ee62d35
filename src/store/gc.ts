/**
 * Garbage collection: everything in the store directory (and every registration)
 * outside the closure of the gc roots (src/store/roots.ts) goes. The caller holds the
 * gc lock exclusively, so no process is adding paths meanwhile; processes that use
 * valid paths without the lock (a no-op realize) see the collection in the database's
 * gc generation and take the lock to check again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { removeTree, type Store } from './store.js';
import { findRoots } from './roots.js';

export interface GcResult {
  deleted: string[];
  bytes: number;
  live: number;
  roots: number;
}

export async function collectGarbage(store: Store, opts: { dryRun: boolean }): Promise<GcResult> {
  if (!opts.dryRun) store.db.beginCollection();
  try {
    const roots = findRoots(store);
    const live = store.closure(roots.filter((r) => store.isValid(r)));
    const { valid, damaged } = store.entries();
    const candidates = new Set<string>();
    for (const entry of fs.readdirSync(store.dir)) {
      if (entry.startsWith('.') || entry === 'README.md') continue;
      candidates.add(path.join(store.dir, entry));
    }
    for (const e of [...valid, ...damaged]) candidates.add(e.path);
    const dead = [...candidates].filter((p) => !live.has(p)).sort();
    const bytes = dead.reduce((sum, p) => sum + diskUsage(p), 0);
    if (!opts.dryRun) {
      store.forget(dead);
      removeTree(store.tempDir);
      fs.mkdirSync(store.tempDir, { recursive: true });
    }
    return { deleted: dead, bytes, live: live.size, roots: roots.length };
  } finally {
    if (!opts.dryRun) store.db.endCollection();
  }
}

function diskUsage(p: string): number {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, e) => sum + diskUsage(path.join(p, e)), st.size);
}
