/**
 * Copies one store path from a binary cache into the store, in one streaming pass:
 * download -> decompress -> hash and restore into a temporary directory
 * (`.slime/tmp/`), each entry written in canonical form (mtime 1, read-only); only
 * when the whole NAR has been read and matched its narinfo is it renamed into the
 * store and registered with the narinfo's signatures. A failure leaves nothing in
 * the store.
 *
 * The caller has checked the narinfo (signature, store path) and made its references
 * valid first.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { narRestore } from '../nar/restore.js';
import { hashPartOf } from '../store/paths.js';
import { removeTree, type PathInfo, type Store } from '../store/store.js';
import { placeAndRegister } from '../store/add-path.js';
import type { BinaryCache } from './binary-cache.js';
import type { NarInfo } from './narinfo.js';
import { verifiedNar, type VerifiedNarOptions } from './verified-nar.js';

export async function pullPath(store: Store, cache: BinaryCache, info: NarInfo, opts: VerifiedNarOptions = {}): Promise<PathInfo> {
  const finalPath = info.storePath;
  const tempDir = path.join(store.stateDir, 'tmp', `subst-${hashPartOf(finalPath)}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tempDir, { recursive: true });
  try {
    const temp = path.join(tempDir, path.basename(finalPath));
    await narRestore(verifiedNar(cache, info, opts), temp, { canonical: true });
    const registered: PathInfo = {
      path: finalPath,
      narHash: `sha256-${info.narHash.toString('base64')}`,
      narSize: info.narSize,
      references: info.references,
      deriver: info.deriver,
      ca: info.ca,
      registrationTime: Math.floor(Date.now() / 1000),
      signatures: info.sigs,
    };
    // The store places and registers it under the path's lock, as it does a build's output.
    return await placeAndRegister(store, temp, registered);
  } finally {
    removeTree(tempDir);
  }
}
