/**
 * gc roots, written and read here only.
 *
 * Layout:
 *   <store>/.roots/NAME        a symlink to a store path (or into one): a root
 *   <store>/.roots/auto/HASH   an indirect root: a symlink to a link elsewhere (such as
 *                              ./result) that points into the store; a root while that
 *                              link exists and points there; removed once it dangles.
 *   HASH = fileNameHash(absolute path of the link): 32 hex digits (src/hash/name-hash.ts),
 *          not a digest from node:crypto, which a no-op realize, checking that its
 *          ./result and the root behind it are already right, would load for this alone
 *          (4-5 ms of its start). Roots named by the sha256 of earlier versions still count:
 *          findRoots follows every link here, whatever its name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileNameHash } from '../hash/name-hash.js';
import type { Store } from './store.js';

/** The store paths the roots keep alive (valid or not). */
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

/** Makes `link` an indirect root: gc keeps what it points to while it exists. */
function autoRootOf(store: Store, link: string): string {
  return path.join(store.rootsDir, 'auto', fileNameHash(link));
}

function readlinkOrUndefined(p: string): string | undefined {
  try {
    return fs.readlinkSync(p);
  } catch {
    return undefined;
  }
}

export function addIndirectRoot(store: Store, link: string): void {
  const rootLink = autoRootOf(store, link);
  fs.mkdirSync(path.dirname(rootLink), { recursive: true });
  const tmp = `${rootLink}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(link, tmp);
  fs.renameSync(tmp, rootLink);
}

/** `link` -> `storePath`, replaced atomically, and registered as an indirect root. */
export function addResultLink(store: Store, storePath: string, link: string): void {
  // A no-op realize writes nothing: a link and root already right are left alone.
  if (readlinkOrUndefined(link) === storePath && readlinkOrUndefined(autoRootOf(store, link)) === link) return;
  const tmp = `${link}.tmp-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(storePath, tmp);
  fs.renameSync(tmp, link);
  addIndirectRoot(store, link);
}
