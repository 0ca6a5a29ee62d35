/**
 * The NAR behind a narinfo, as a stream that can be trusted once it ends: the file is
 * downloaded, hashed (FileHash, FileSize) and decompressed as it arrives; the NAR is
 * counted and hashed (NarHash, NarSize). Nothing is held whole.
 *
 * A NAR that decompresses to more than NarSize bytes is cut off at that point (a
 * decompression bomb cannot fill the disk); every other check happens when the
 * stream ends, so a consumer must read it to its end before it trusts what it wrote.
 *
 * FileHash is checked unless the caller says not to (`checkFileHash: false`, the
 * substitution's choice): the signature covers NarHash, not FileHash, so what makes a
 * NAR trustworthy is its NarHash, which is always checked; a wrong FileHash over a NAR
 * of the right NarHash is a harmless difference in how it was compressed. Nix's
 * substitution does not check FileHash either (nix 2.8 `nix copy --from` took the
 * CPython quick NAR under a narinfo whose FileHash was made wrong, 2026-12-04), and
 * hashing the compressed file (67 MB) cost the pull of that NAR 77-88 ms of its
 * 1.5-1.6 s of CPU (two runs of 9 and 11 alternating rounds).
 * `cache verify` and the server's upload check keep checking it: there it is what
 * the cache promises about its own file.
 */
import { createHash } from 'node:crypto';
import { SlimeError } from '../errors.js';
import { toNixBase32 } from '../hash/base32.js';
import { type BinaryCache, isSafeRelativePath } from './binary-cache.js';
import { decompress, isCompression, type OutputBuffers } from './compression.js';
import type { NarInfo } from './narinfo.js';

/** Why a cache's NAR cannot be used: the reason of a substitution warning. */
export class BadNarError extends SlimeError {}

export interface VerifiedNarOptions {
  signal?: AbortSignal;
  /** Called with every downloaded (compressed) chunk's size. */
  onDownloaded?: (bytes: number) => void;
  /** Hash the downloaded file and check it against FileHash (default true; see above). */
  checkFileHash?: boolean;
  /** Where zstd's output buffers come from (./compression.ts), when the consumer gives them back. */
  outputBuffer?: OutputBuffers;
}

export async function* verifiedNar(cache: BinaryCache, info: NarInfo, opts: VerifiedNarOptions = {}): AsyncGenerator<Buffer> {
  if (!isCompression(info.compression)) {
    throw new BadNarError(`its NAR is compressed with ${JSON.stringify(info.compression)}, which slime cannot read (none, xz, zstd, bzip2)`);
  }
  if (!isSafeRelativePath(info.url)) throw new BadNarError(`its URL ${JSON.stringify(info.url)} leaves the cache`);
  const file = await cache.getFile(info.url, opts.signal);
  if (!file) throw new BadNarError(`its NAR ${info.url} is missing from the cache`);
  const fileSha = info.fileHash && opts.checkFileHash !== false ? createHash('sha256') : undefined;
  let fileBytes = 0;
  async function* downloaded(): AsyncGenerator<Buffer> {
    for await (const chunk of file!.body) {
      const b = chunk as Buffer;
      fileBytes += b.length;
      if (info.fileSize !== undefined && fileBytes > info.fileSize) {
        throw new BadNarError(`${info.url} is longer than its FileSize ${info.fileSize}`);
      }
      fileSha?.update(b);
      opts.onDownloaded?.(b.length);
      yield b;
    }
  }
  const narSha = createHash('sha256');
  let narBytes = 0;
  try {
    for await (const chunk of decompress(downloaded(), info.compression, opts.outputBuffer)) {
      narBytes += chunk.length;
      if (narBytes > info.narSize) {
        throw new BadNarError(
          `the NAR is longer than its NarSize of ${info.narSize} bytes (a decompression bomb or a wrong narinfo); stopped reading`,
        );
      }
      narSha.update(chunk);
      yield chunk;
    }
  } catch (e) {
    if (e instanceof BadNarError || opts.signal?.aborted) throw e;
    throw new BadNarError(`reading ${info.url} failed: ${(e as Error).message}`);
  } finally {
    file.body.destroy();
  }
  if (info.fileSize !== undefined && fileBytes !== info.fileSize) {
    throw new BadNarError(`${info.url} has ${fileBytes} bytes, but its FileSize is ${info.fileSize} (truncated?)`);
  }
  if (fileSha && !fileSha.digest().equals(info.fileHash!)) {
    throw new BadNarError(`${info.url} does not match its FileHash (corrupt or tampered file)`);
  }
  if (narBytes !== info.narSize) {
    throw new BadNarError(`the NAR has ${narBytes} bytes, but its NarSize is ${info.narSize} (truncated NAR or wrong narinfo)`);
  }
  const narHash = narSha.digest();
  if (!narHash.equals(info.narHash)) {
    throw new BadNarError(
      `the NAR's hash is sha256:${toNixBase32(narHash)}, but its NarHash is sha256:${toNixBase32(info.narHash)} (corrupt or tampered NAR)`,
    );
  }
}
