/**
 * What a user passes for a store path: the path itself, a path inside it
 * (`/store/<hash>-x/bin/y`), or anything that links to one, `./result` above all.
 * Nix accepts all three; so does every slime command that takes a store path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isStorePathIn } from '../store/paths.js';
import type { Store } from '../store/store.js';

/** The top-level store path `arg` names or links to, or undefined when it names none. */
export function storePathOf(store: Store, arg: string, cwd = process.cwd()): string | undefined {
  const trimmed = arg.replace(/\/+$/, '');
  const abs = path.resolve(cwd, trimmed);
  const direct = topLevel(store.dir, abs);
  if (direct !== undefined) return direct;
  // A link (./result, a gc root) to a store path, possibly through further links.
  let target: string;
  try {
    target = fs.realpathSync(abs);
  } catch {
    return undefined;
  }
  let storeReal: string;
  try {
    storeReal = fs.realpathSync(store.dir);
  } catch {
    storeReal = store.dir;
  }
  const inReal = topLevel(storeReal, target);
  return inReal !== undefined ? path.join(store.dir, path.relative(storeReal, inReal)) : undefined;
}

function topLevel(storeDir: string, p: string): string | undefined {
  if (!p.startsWith(`${storeDir}/`)) return undefined;
  const first = p.slice(storeDir.length + 1).split('/')[0]!;
  const candidate = `${storeDir}/${first}`;
  return isStorePathIn(storeDir, candidate) ? candidate : undefined;
}

/** Whether `arg` is spelt like a path (a store path, `./result`), not a name. */
export function looksLikePath(arg: string): boolean {
  return arg.includes('/') || arg === '.' || arg === '..';
}
