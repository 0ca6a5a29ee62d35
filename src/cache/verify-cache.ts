/**
 * `slime cache verify`: re-downloads what a cache holds and checks it as a
 * substitution would (signature by a trusted key, FileHash/FileSize, NarHash/NarSize),
 * without writing anything.
 */
import PQueue from 'p-queue';
import { type BinaryCache, readSmallFile } from './binary-cache.js';
import { fingerprint, MAX_NARINFO_BYTES, parseNarInfo } from './narinfo.js';
import { trustedSigner, type PublicKey } from './signing.js';
import { reasonOf } from './substituter.js';
import { verifiedNar } from './verified-nar.js';

export interface VerifyResult {
  narInfo: string;
  storePath?: string;
  problem?: string;
  signer?: string;
}

export async function verifyCache(
  cache: BinaryCache,
  storeDir: string,
  narInfoFiles: string[],
  trusted: PublicKey[],
  jobs: number,
  onResult: (r: VerifyResult) => void,
): Promise<VerifyResult[]> {
  const queue = new PQueue({ concurrency: Math.max(1, jobs) });
  return Promise.all(
    narInfoFiles.map(
      (file) =>
        queue.add(async (): Promise<VerifyResult> => {
          const r = await verifyOne(cache, storeDir, file, trusted);
          onResult(r);
          return r;
        }) as Promise<VerifyResult>,
    ),
  );
}

async function verifyOne(cache: BinaryCache, storeDir: string, file: string, trusted: PublicKey[]): Promise<VerifyResult> {
  let storePath: string | undefined;
  try {
    const text = await readSmallFile(cache, file, MAX_NARINFO_BYTES);
    if (text === undefined) return { narInfo: file, problem: 'the cache has no such narinfo' };
    const info = parseNarInfo(text, storeDir);
    storePath = info.storePath;
    if (!info.storePath.startsWith(`${storeDir}/`) || !file.startsWith(info.storePath.slice(storeDir.length + 1, storeDir.length + 33))) {
      return { narInfo: file, storePath, problem: `it describes ${info.storePath}, which is not the path its name says` };
    }
    const signer = trusted.length > 0 ? trustedSigner(info.sigs, fingerprint(info), trusted) : undefined;
    if (trusted.length > 0 && signer === undefined) {
      return { narInfo: file, storePath, problem: info.sigs.length === 0 ? 'it is not signed' : 'no signature by a trusted key verifies' };
    }
    for await (const _ of verifiedNar(cache, info)) void _;
    return { narInfo: file, storePath, signer };
  } catch (e) {
    return { narInfo: file, storePath, problem: reasonOf(e) };
  }
}
