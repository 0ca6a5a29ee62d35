import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Streams `source` into a new file at `path` while computing its sha256, so that a
 * download is hashed as it arrives and never held in memory. `onChunk` sees every
 * chunk's size (progress, idle timers). Resolves to the digest once the file is flushed.
 * The file is created exclusively: a leftover temp file means a bug, not something to
 * overwrite silently.
 */
export async function writeHashed(
  source: Readable,
  path: string,
  onChunk?: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<Buffer> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      onChunk?.(chunk.length);
      done(null, chunk);
    },
  });
  await pipeline(source, tap, createWriteStream(path, { flags: 'wx' }), signal ? { signal } : {});
  return hash.digest();
}
