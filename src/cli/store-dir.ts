/**
 * Checks the store directory before anything is written to it, so that a wrong
 * `--store` is one clear line, not an ENOTDIR/EACCES stack or a hang: Node's recursive
 * mkdir loops forever on some ENOENTs (under /proc), so missing directories are
 * created one at a time from the nearest existing ancestor. Read-only commands never
 * create a store: a store that does not exist is said to not exist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';

export type StoreDirState = 'exists' | 'missing';

/** Throws a SlimeError naming the store and what to do when `dir` cannot be a store. */
export function checkStoreDir(dir: string, opts: { create: boolean }): StoreDirState {
  const st = statOrUndefined(dir);
  if (st !== undefined) {
    if (!st.isDirectory()) throw new SlimeError(`store ${dir} is a file, not a directory; pass --store a directory (it is created if it does not exist)`);
    if (opts.create && !writable(dir)) {
      throw new SlimeError(`store ${dir} is not writable by this user; fix its permissions or pass --store a directory you can write to`);
    }
    return 'exists';
  }
  if (!opts.create) return 'missing';
  const missing: string[] = [];
  let at = dir;
  for (; statOrUndefined(at) === undefined; at = path.dirname(at)) {
    missing.unshift(at);
    if (path.dirname(at) === at) break;
  }
  const ancestor = statOrUndefined(at);
  if (ancestor !== undefined && !ancestor.isDirectory()) {
    throw new SlimeError(`cannot create store ${dir}: ${at} is a file, not a directory; pass --store a path under a directory`);
  }
  if (ancestor !== undefined && !writable(at)) {
    throw new SlimeError(`cannot create store ${dir}: ${at} is not writable by this user; pass --store a directory you can write to`);
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EEXIST') continue;
      throw new SlimeError(`cannot create store ${dir}: mkdir ${d} failed (${err.code ?? err.message}); pass --store a directory on a writable file system`);
    }
  }
  return 'exists';
}

/** The one line a read-only command says about a store that is not there. */
export function missingStoreError(dir: string, what: string): SlimeError {
  return new SlimeError(`store ${dir} does not exist, so there is nothing to ${what}; pass --store (or set SLIME_STORE to) an existing store, or \`slime realize\` something first`);
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
