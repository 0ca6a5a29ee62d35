/**
 * Garbage collection: everything in the store directory outside the closure of the
 * gc roots goes. Roots live in `<store>/.roots/`: a symlink there is a root if it
 * points into the store, or (indirect roots in `.roots/auto/`) points to a symlink that
 * does, such as a `result` link made by `slime realize`. A dangling indirect root is
 * removed. The caller holds the store lock exclusively.
 */
import fs from 'node:fs';
import path from 'node:path';
import { removeTree, writeFileAtomic, type Store } from './store.js';

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

/**
 * A counter of collections, with whether one is running (`<state>/gc-generation`,
 * text `idle N` or `running N`), so that a realize with nothing to build needs no
 * lock: it reads the generation before it looks at validity and after it has made
 * its result links (roots); if a collection started in between, it does it again
 * under the store lock. Undefined while a collection runs (or ran and crashed).
 */
export function gcGeneration(store: Store): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(generationFile(store), 'utf8');
  } catch {
    return 'idle 0';
  }
  return text.startsWith('idle ') ? text : undefined;
}

function generationFile(store: Store): string {
  return path.join(store.stateDir, 'gc-generation');
}

function setGeneration(store: Store, state: 'idle' | 'running', n: number): void {
  writeFileAtomic(generationFile(store), `${state} ${n}`);
}

export async function collectGarbage(store: Store, opts: { dryRun: boolean }): Promise<GcResult> {
  let generation = 1;
  if (!opts.dryRun) {
    try {
      generation = (Number(fs.readFileSync(generationFile(store), 'utf8').split(' ')[1]) || 0) + 1;
    } catch {
      // the first collection
    }
    setGeneration(store, 'running', generation);
  }
  try {
    return collect(store, opts);
  } finally {
    if (!opts.dryRun) setGeneration(store, 'idle', generation);
  }
}

function collect(store: Store, opts: { dryRun: boolean }): GcResult {
  const roots = findRoots(store);
  const live = store.closure(roots.filter((r) => store.isValid(r)));
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
