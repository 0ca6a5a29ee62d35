/**
 * Garbage collection: everything in the store directory (and every registration)
 * outside the closure of the gc roots (src/store/roots.ts) goes. The caller holds the
 * gc lock exclusively, so no process is adding paths meanwhile; processes that use
 * valid paths without the lock (a no-op realize) see the collection in the database's
 * gc generation and take the lock to check again. The `.drv` that produced a live path
 * stays too (Nix's keep-derivations).
 */
import fs from 'node:fs';
import path from 'node:path';
import { diskUsage, removeTree, type Store } from './store.js';
import type { PathInfo } from './db.js';
import { findRoots } from './roots.js';
import { SlimeError } from '../errors.js';

export interface GcResult {
  deleted: string[];
  bytes: number;
  live: number;
  roots: number;
}

/** What the gc roots keep: their closures, and the `.drv` behind each live output. */
function liveSet(store: Store): { live: Set<string>; roots: string[] } {
  const roots = findRoots(store);
  const reached = store.closure(roots.filter((r) => store.isValid(r)));
  // keep-derivations, Nix's default: a live output keeps the .drv it came from (and the
  // .drv's own closure: input .drvs and sources), so it can be traced back and rebuilt.
  const derivers = [...reached].flatMap((p) => {
    const deriver = store.queryInfo(p)?.deriver;
    return deriver !== undefined && store.isValid(deriver) ? [deriver] : [];
  });
  return { live: new Set([...reached, ...store.closure(derivers)]), roots };
}

export async function collectGarbage(store: Store, opts: { dryRun: boolean; maxFreed?: number }): Promise<GcResult> {
  if (!opts.dryRun) store.db.beginCollection();
  try {
    const { live, roots } = liveSet(store);
    const { valid, damaged } = store.entries();
    const candidates = new Set<string>();
    for (const entry of fs.readdirSync(store.dir)) {
      if (entry.startsWith('.') || entry === 'README.md') continue;
      candidates.add(path.join(store.dir, entry));
    }
    for (const e of [...valid, ...damaged]) candidates.add(e.path);
    const allDead = [...candidates].filter((p) => !live.has(p)).sort();
    const { dead, bytes } =
      opts.maxFreed === undefined ? { dead: allDead, bytes: allDead.reduce((sum, p) => sum + diskUsage(p), 0) } : withinBudget(store, allDead, valid, opts.maxFreed);
    if (!opts.dryRun) {
      store.forget(dead);
      // Emptied in place, never removed: every command's store.init() creates it with a
      // recursive mkdir, which Node answers with ENOENT when the directory it found
      // existing (EEXIST) is gone by its next stat (a realize starting while gc ran).
      const leftovers = fs.existsSync(store.tempDir) ? fs.readdirSync(store.tempDir) : [];
      for (const entry of leftovers) removeTree(path.join(store.tempDir, entry));
    }
    return { deleted: dead, bytes, live: live.size, roots: roots.length };
  } finally {
    if (!opts.dryRun) store.db.endCollection();
  }
}

/**
 * `--max-freed N` (Nix's option of the same name): dead paths are taken until at
 * least N bytes are freed, each only after every dead path that refers to it, so that
 * no valid path is ever left referring to a deleted one. Among the paths that may go
 * next: the unregistered ones (interrupted builds) first, then the oldest registered.
 */
function withinBudget(store: Store, dead: string[], valid: PathInfo[], maxFreed: number): { dead: string[]; bytes: number } {
  const deadSet = new Set(dead);
  const registered = new Map(valid.map((i) => [i.path, i]));
  const waitingFor = new Map<string, number>();
  for (const p of dead) waitingFor.set(p, store.referrers(p).filter((r) => r !== p && deadSet.has(r)).length);
  const age = (p: string) => registered.get(p)?.registrationTime ?? -Infinity;
  const ready = dead.filter((p) => waitingFor.get(p) === 0);
  const taken: string[] = [];
  let bytes = 0;
  while (bytes < maxFreed && ready.length > 0) {
    ready.sort((a, b) => age(a) - age(b) || (a < b ? -1 : 1));
    const p = ready.shift()!;
    taken.push(p);
    bytes += diskUsage(p);
    for (const r of registered.get(p)?.references ?? []) {
      if (r === p || !deadSet.has(r)) continue;
      const left = waitingFor.get(r)! - 1;
      waitingFor.set(r, left);
      if (left === 0) ready.push(r);
    }
  }
  return { dead: taken.sort(), bytes };
}

/**
 * Deletes the given store paths and nothing else (`nix-store --delete`): each must be
 * dead, that is, no gc root reaches it and no valid path outside the set refers to it,
 * so the closure invariant holds afterwards. All or nothing: one live path and none is
 * deleted. The caller holds the gc lock exclusively.
 */
export function deleteSpecific(store: Store, storePaths: string[]): { deleted: string[]; bytes: number } {
  const wanted = [...new Set(storePaths)].sort();
  const { live } = liveSet(store);
  for (const p of wanted) {
    if (!store.isValid(p) && !fs.existsSync(p)) {
      throw new SlimeError(`cannot delete ${p}: no such path in the store ${store.dir}; \`slime targets\` lists what is realized`);
    }
    if (live.has(p)) {
      throw new SlimeError(
        `cannot delete ${p}: it is still alive (a gc root reaches it, or it is the .drv of a live output); ` +
          `remove the root (a ./result link or ${store.rootsDir}/...) first, then run the command again`,
      );
    }
    const holders = store.referrers(p).filter((r) => r !== p && !wanted.includes(r) && store.isValid(r));
    if (holders.length > 0) {
      throw new SlimeError(
        `cannot delete ${p}: ${holders.length === 1 ? `${holders[0]} refers to it` : `${holders.length} valid paths refer to it (first: ${holders[0]})`}; ` +
          `delete ${holders.length === 1 ? 'that path' : 'those'} too, or run \`slime gc\``,
      );
    }
  }
  store.db.beginCollection();
  try {
    const bytes = wanted.reduce((sum, p) => sum + diskUsage(p), 0);
    store.forget(wanted);
    return { deleted: wanted, bytes };
  } finally {
    store.db.endCollection();
  }
}
