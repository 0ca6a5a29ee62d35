/**
 * Garbage collection: everything in the store directory outside the closure of the
 * gc roots goes. Roots live in `<store>/.roots/`: a symlink there is a root if it
 * points into the store, or (indirect roots in `.roots/auto/`) points to a symlink that
 * does, such as a `result` link made by `slime realize`. A dangling indirect root is
 * removed. The `.drv` that produced a live path stays too (Nix's keep-derivations).
 * The caller holds the store lock exclusively.
 */
import fs from 'node:fs';
import path from 'node:path';
import { removeTree, type Store } from './store.js';

export interface GcResult {
  deleted: string[];
  bytes: number;
  live: number;
  roots: number;
}

export function findRoots(store: Store): string[] {
  const roots: string[] = [];
  const visit = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p)) visit(path.join(p, e));
    } else if (st.isSymbolicLink()) {
      const target = storePathBehind(store, p);
      if (target) roots.push(target);
      else if (path.dirname(p) === path.join(store.rootsDir, 'auto')) fs.rmSync(p, { force: true });
    }
  };
  visit(store.rootsDir);
  return roots;
}

/** Follows links (a root link, then maybe a result link) until a store path. */
function storePathBehind(store: Store, link: string): string | undefined {
  let p = link;
  for (let hops = 0; hops < 8; hops++) {
    let target: string;
    try {
      target = path.resolve(path.dirname(p), fs.readlinkSync(p));
    } catch {
      return undefined;
    }
    if (target.startsWith(store.dir + '/')) {
      const top = target.slice(store.dir.length + 1).split('/')[0];
      return top.startsWith('.') ? undefined : path.join(store.dir, top);
    }
    p = target;
  }
  return undefined;
}

export async function collectGarbage(store: Store, opts: { dryRun: boolean }): Promise<GcResult> {
  const roots = findRoots(store);
  const reached = store.closure(roots.filter((r) => store.isValid(r)));
  // keep-derivations, Nix's default: a live output keeps the .drv it came from (and the
  // .drv's own closure: input .drvs and sources), so it can be traced back and rebuilt.
  const derivers = [...reached].flatMap((p) => {
    const deriver = store.queryInfo(p)?.deriver;
    return deriver !== undefined && store.isValid(deriver) ? [deriver] : [];
  });
  const live = new Set([...reached, ...store.closure(derivers)]);
  const deleted: string[] = [];
  let bytes = 0;
  for (const entry of fs.readdirSync(store.dir).sort()) {
    if (entry.startsWith('.') || entry === 'README.md') continue;
    const p = path.join(store.dir, entry);
    if (live.has(p)) continue;
    bytes += diskUsage(p);
    deleted.push(p);
    if (!opts.dryRun) {
      store.invalidate(p);
      removeTree(p);
    }
  }
  if (!opts.dryRun) removeTree(path.join(store.stateDir, 'tmp'));
  return { deleted, bytes, live: live.size, roots: roots.length };
}

function diskUsage(p: string): number {
  const st = fs.lstatSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, e) => sum + diskUsage(path.join(p, e)), st.size);
}
