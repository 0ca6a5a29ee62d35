/**
 * zstd decompressed in process (libzstd through zstd-napi, src/cache/compression.ts)
 * gives what Debian's `zstd -d` gives, whatever the input's chunking, across frames,
 * and refuses what `zstd -d` refuses, with a reason.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decompress } from '../src/cache/compression.js';

/** Bytes that compress some but not to nothing: 6 MB of text with random words. */
function sample(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed;
  for (let i = 0; i < bytes; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = (x >>> 16) % 7 === 0 ? 0x20 : 0x61 + ((x >>> 8) % 26);
  }
  return out;
}

const zstd = (input: Buffer, ...args: string[]): Buffer => execFileSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 1 << 30 });

/** Feeds `bytes` in chunks of `size` and collects what comes out. */
async function run(bytes: Buffer, size: number): Promise<Buffer[]> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  }
  const out: Buffer[] = [];
  for await (const b of decompress(chunks(), 'zstd')) out.push(b);
  return out;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('zstd decompression in process', () => {
  const data = sample(6_000_000, 1);
  const frame = zstd(data, '--check');

  it.each([1, 4093, 65536, 1 << 20, frame.length])('gives zstd -d its bytes, the input in chunks of %i bytes', async (size) => {
    const out = await run(frame, size);
    const whole = Buffer.concat(out);
    expect(whole.length).toBe(data.length);
    expect(sha(whole)).toBe(sha(zstd(frame, '-d')));
    // Whole 1 MiB buffers, each its own memory (pull.ts transfers them without a copy), but the last.
    for (const b of out.slice(0, -1)) {
      expect(b.length).toBe(1 << 20);
      expect(b.byteOffset).toBe(0);
      expect(b.buffer.byteLength).toBe(1 << 20);
    }
  });

  it('reads several frames one after another, as zstd -d does', async () => {
    const second = sample(1_500_000, 2);
    const both = Buffer.concat([frame, zstd(second, '--no-check')]);
    const whole = Buffer.concat(await run(both, 100_000));
    expect(sha(whole)).toBe(sha(Buffer.concat([data, second])));
    expect(sha(whole)).toBe(sha(zstd(both, '-d')));
  });

  it('refuses a frame cut short', async () => {
    await expect(run(frame.subarray(0, frame.length - 1000), 65536)).rejects.toThrow(/ends in the middle of a frame \(truncated\)/);
    expect(() => zstd(frame.subarray(0, frame.length - 1000), '-d')).toThrow();
  });

  it('refuses a damaged content checksum, as zstd -d does', async () => {
    const bad = Buffer.from(frame);
    bad[bad.length - 1] ^= 0xff;
    await expect(run(bad, 65536)).rejects.toThrow(/Restored data doesn't match checksum/);
    expect(() => zstd(bad, '-d')).toThrow();
  });

  it('refuses bytes that are no zstd frame, and an empty input', async () => {
    await expect(run(Buffer.from('nix-archive-1 but not compressed'), 1024)).rejects.toThrow(/zstd could not decompress the data: Unknown frame descriptor/);
    await expect(run(Buffer.alloc(0), 1024)).rejects.toThrow(/it is empty/);
  });

  it('stops where the consumer stops: a bomb is not decompressed past what was read', async () => {
    const bomb = zstd(Buffer.alloc(200 << 20), '--no-check'); // 200 MiB of zeros in a few KB
    async function* once(): AsyncGenerator<Buffer> {
      yield bomb;
    }
    let got = 0;
    for await (const b of decompress(once(), 'zstd')) {
      got += b.length;
      if (got >= 3 << 20) break;
    }
    expect(got).toBe(3 << 20);
  });
});
