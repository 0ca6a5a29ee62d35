/**
 * Adding local files to the store: sources of derivations (as Nix adds `./path`) and
 * `slime store add-file` (as `nix-store --add-fixed sha256 FILE`). Both copy into a
 * temporary of their own first, and addPath moves it in, so a path appears in the store
 * only complete and registered, and concurrent adders of the same path never collide.
 * The caller holds the store's gc lock shared.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';
import { hashFile } from '../hash/digest.js';
import { addPath, fixedCa } from './add-path.js';
import { makeFixedOutputPath } from './paths.js';
import { removeTree, type PathInfo, type Store } from './store.js';

/** A directory's entries that belong to a source (evaluation's filter: src/derivation/sources.ts). */
export type EntryFilter = (dir: string) => string[];

/** Copies a source tree into the store at the path evaluation computed for it. */
export async function addSource(store: Store, localPath: string, storePath: string, entries: EntryFilter): Promise<void> {
  if (store.isValid(storePath)) return;
  const temp = store.uniqueTempPath(storePath);
  try {
    copyFiltered(localPath, temp, entries);
  } catch (e) {
    removeTree(temp);
    throw e;
  }
  const info = await addPath({
    store,
    tempPath: temp,
    finalPath: storePath,
    referenceCandidates: [],
    ca: (narHash) => fixedCa('recursive', 'sha256', narHash),
  });
  await verifyComputedPath(store, localPath, storePath, info);
}

/** The copy must hash to what evaluation computed, or the source changed in between. */
async function verifyComputedPath(store: Store, localPath: string, storePath: string, info: PathInfo): Promise<void> {
  const digest = Buffer.from(info.narHash.replace(/^sha256-/, ''), 'base64');
  const actual = makeFixedOutputPath(store.dir, path.basename(storePath).slice(33), { method: 'recursive', algo: 'sha256', digest });
  if (actual !== storePath) {
    store.forget([storePath]);
    throw new SlimeError(`source ${localPath} changed while slime was running (expected ${storePath}, copied ${actual}); run the command again`);
  }
}

function copyFiltered(from: string, to: string, entries: EntryFilter): void {
  const st = fs.lstatSync(from);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(from), to);
  } else if (st.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const e of entries(from)) copyFiltered(path.join(from, e), path.join(to, e), entries);
  } else {
    fs.copyFileSync(from, to);
    fs.chmodSync(to, st.mode & 0o100 ? 0o755 : 0o644);
  }
}

/** `slime store add-file FILE`: a flat SHA-256 fixed-output path, as `nix-store --add-fixed sha256`. */
export async function addFile(store: Store, file: string, name = path.basename(file)): Promise<string> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new SlimeError(`cannot add ${file} to the store: no such file`);
  }
  if (!st.isFile()) throw new SlimeError(`cannot add ${file} to the store: it is not a regular file (add-file takes one file)`);
  // Hash the copy, not the original: what is registered is what was hashed.
  const temp = store.uniqueTempPath(`/${name}`);
  try {
    fs.copyFileSync(file, temp);
    const digest = await hashFile(temp, 'sha256');
    const storePath = makeFixedOutputPath(store.dir, name, { method: 'flat', algo: 'sha256', digest });
    if (!store.isValid(storePath)) {
      await addPath({ store, tempPath: temp, finalPath: storePath, referenceCandidates: [], ca: () => fixedCa('flat', 'sha256', digest) });
    }
    return storePath;
  } finally {
    removeTree(temp);
  }
}
