import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode, SlimeError } from '../src/errors.js';
import {
  FetchFailedError,
  fetchFixed,
  HashMismatchError,
  type FetchProgress,
} from '../src/fetch/fetch-fixed.js';
import { describeMirror, type Mirror } from '../src/fetch/mirror.js';

const good = randomBytes(300_000);
const goodSha = createHash('sha256').update(good).digest();
const goodSri = `sha256-${goodSha.toString('base64')}`;
const other = Buffer.from('not the file the derivation pins\n');
const otherSri = `sha256-${createHash('sha256').update(other).digest('base64')}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests seen by the server, by path. */
const requests: string[] = [];
let server: Server;
let base: string;
/** Responses held open by the stalling routes, ended when the test is over. */
const held = new Set<ServerResponse>();

async function sendSlowly(res: ServerResponse, data: Buffer, chunks: number, gapMs: number) {
  const size = Math.ceil(data.length / chunks);
  for (let i = 0; i < data.length; i += size) {
    if (res.destroyed) return;
    res.write(data.subarray(i, i + size));
    await sleep(gapMs);
  }
  res.end();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    // Routes ignore the query, so that one file can be listed as several mirrors.
    const path = new URL(req.url ?? '/', 'http://loopback').pathname;
    switch (path) {
      case '/good.bin':
        res.writeHead(200, { 'content-length': good.length, 'content-type': 'application/octet-stream' });
        res.end(good);
        return;
      case '/slow.bin':
        res.writeHead(200, { 'content-length': good.length });
        void sendSlowly(res, good, 6, 60);
        return;
      case '/chunked.bin':
        // No Content-Length: the total stays unknown.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        void sendSlowly(res, good, 3, 10);
        return;
      case '/other.bin':
        res.writeHead(200, { 'content-length': other.length });
        res.end(other);
        return;
      case '/no-answer':
        held.add(res);
        return;
      case '/half-then-stall':
        res.writeHead(200, { 'content-length': good.length });
        res.write(good.subarray(0, 100_000));
        held.add(res);
        return;
      case '/truncated':
        res.writeHead(200, { 'content-length': good.length });
        res.write(good.subarray(0, 1000), () => res.destroy());
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no such file\n');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

let dir: string;
let dest: string;
let cacheDir: string;
let workDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slime-fetch-'));
  dest = join(dir, 'out', 'file.bin');
  cacheDir = join(dir, 'cache');
  workDir = join(dir, 'work');
  requests.length = 0;
});

afterEach(async () => {
  for (const res of held) res.destroy();
  held.clear();
  await rm(dir, { recursive: true, force: true });
});

function fetchOpts(mirrors: Mirror[], extra: Partial<Parameters<typeof fetchFixed>[0]> = {}) {
  return { name: 'file.bin', sha256: goodSha, mirrors, dest, cacheDir, workDir, ...extra };
}

/** A loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  s.close();
  await once(s, 'close');
  return port;
}

/** Everything in the destination directory: no temp file may survive. */
async function destDirEntries(): Promise<string[]> {
  return readdir(join(dir, 'out')).catch(() => []);
}

describe('fetchFixed over HTTP', () => {
  it('downloads, verifies and reports progress with the Content-Length total', async () => {
    const progress: FetchProgress[] = [];
    const lines: string[] = [];
    const started = performance.now();
    const result = await fetchFixed(
      fetchOpts([{ url: `${base}/slow.bin` }], { onProgress: (p) => progress.push(p), log: (l) => lines.push(l) }),
    );
    const elapsed = performance.now() - started;
    expect(result).toEqual({ source: `${base}/slow.bin`, fromCache: false });
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(await destDirEntries()).toEqual(['file.bin']);

    expect(progress.length).toBeGreaterThanOrEqual(2);
    // Throttled: about ten a second, plus the first and the last.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
    for (const p of progress) {
      expect(p.total).toBe(good.length);
      expect(p.source).toBe(`${base}/slow.bin`);
    }
    const bytes = progress.map((p) => p.bytes);
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
    expect(progress.at(-1)!.bytes).toBe(good.length);
    expect(progress.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes(`fetching from ${base}/slow.bin`))).toBe(true);
    expect(lines.some((l) => l.includes('fetched from') && l.includes(goodSri))).toBe(true);
  });

  it('reports no total when the server sends no Content-Length', async () => {
    const progress: FetchProgress[] = [];
    await fetchFixed(fetchOpts([{ url: `${base}/chunked.bin` }], { onProgress: (p) => progress.push(p) }));
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(progress.at(-1)!.bytes).toBe(good.length);
    expect(progress.every((p) => p.total === undefined)).toBe(true);
  });

  it('goes on to the next mirror after a 404', async () => {
    const lines: string[] = [];
    const result = await fetchFixed(
      fetchOpts([{ url: `${base}/missing.bin` }, { url: `${base}/good.bin` }], { log: (l) => lines.push(l) }),
    );
    expect(result.source).toBe(`${base}/good.bin`);
    expect(requests).toEqual(['/missing.bin', '/good.bin']);
    expect(lines.some((l) => l.includes(`${base}/missing.bin failed: HTTP 404 Not Found`))).toBe(true);
  });

  it('goes on to the next mirror after a refused connection', async () => {
    const port = await closedPort();
    const result = await fetchFixed(fetchOpts([{ url: `http://127.0.0.1:${port}/f` }, { url: `${base}/good.bin` }]));
    expect(result.source).toBe(`${base}/good.bin`);
    expect((await readFile(dest)).equals(good)).toBe(true);
  });

  it('goes on to the next mirror at once when the host does not resolve', async () => {
    // With a stall limit longer than the test may take, only the failed lookup can move it on.
    const lines: string[] = [];
    const result = await fetchFixed(
      fetchOpts([{ url: 'http://nonexistent.invalid/file.bin' }, { url: `${base}/good.bin` }], { connectTimeoutMs: 3_600_000, log: (l) => lines.push(l) }),
    );
    expect(result.source).toBe(`${base}/good.bin`);
    expect(lines.filter((l) => l.includes('nonexistent.invalid')).join('\n')).toMatch(/nonexistent\.invalid.*(ENOTFOUND|EAI_AGAIN|not resolve|getaddrinfo)/);
  });

  it('goes on to the next mirror when one stalls without a byte', async () => {
    const lines: string[] = [];
    const result = await fetchFixed(
      fetchOpts([{ url: `${base}/no-answer` }, { url: `${base}/good.bin` }], {
        connectTimeoutMs: 300,
        log: (l) => lines.push(l),
      }),
    );
    expect(result.source).toBe(`${base}/good.bin`);
    expect(lines.some((l) => l.includes('timed out: no data for 0.3 s before any response'))).toBe(true);
  });

  it('goes on to the next mirror when one stalls mid-file, and keeps none of its bytes', async () => {
    const lines: string[] = [];
    const result = await fetchFixed(
      fetchOpts([{ url: `${base}/half-then-stall` }, { url: `${base}/good.bin` }], {
        connectTimeoutMs: 300,
        log: (l) => lines.push(l),
      }),
    );
    expect(result.source).toBe(`${base}/good.bin`);
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(lines.some((l) => l.includes('timed out: no data for 0.3 s after 100000 bytes'))).toBe(true);
  });

  it('goes on to the next mirror when one serves a different file', async () => {
    const lines: string[] = [];
    const result = await fetchFixed(
      fetchOpts([{ url: `${base}/other.bin` }, { url: `${base}/good.bin` }], { log: (l) => lines.push(l) }),
    );
    expect(result.source).toBe(`${base}/good.bin`);
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(lines.some((l) => l.includes(`expected ${goodSri}, got ${otherSri}`))).toBe(true);
  });

  it('throws HashMismatchError with both hashes and exit code 102 when every mirror serves another file', async () => {
    const port = await closedPort();
    const mirrors = [{ url: `${base}/other.bin` }, { url: `http://127.0.0.1:${port}/x` }, { url: `${base}/other.bin?2` }];
    const err = await fetchFixed(fetchOpts(mirrors)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashMismatchError);
    expect(err).toBeInstanceOf(SlimeError);
    const mismatch = err as HashMismatchError;
    expect(mismatch.exitCode).toBe(ExitCode.hashMismatch);
    expect(mismatch.expected).toBe(goodSri);
    expect(mismatch.actual).toBe(otherSri);
    expect(mismatch.source).toBe(`${base}/other.bin`);
    expect(mismatch.message).toContain(
      `hash mismatch for file.bin from ${base}/other.bin: expected ${goodSri}, got ${otherSri}; the mirror served a different file`,
    );
    // The other mirrors, and why they did not help, are in the message too.
    expect(mismatch.message).toContain(`http://127.0.0.1:${port}/x: connection refused`);
    expect(mismatch.message).toContain(`${base}/other.bin?2: hash mismatch`);
    expect(await destDirEntries()).toEqual([]);
  });

  it('throws FetchFailedError naming every mirror and its error when all fail', async () => {
    const port = await closedPort();
    const mirrors = [
      { url: `${base}/missing.bin` },
      { url: `http://127.0.0.1:${port}/f` },
      { url: 'http://nonexistent.invalid/f' },
      { url: `${base}/no-answer` },
      { url: `${base}/truncated` },
    ];
    const err = await fetchFixed(fetchOpts(mirrors, { connectTimeoutMs: 300 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchFailedError);
    const failed = err as FetchFailedError;
    expect(failed.exitCode).toBe(ExitCode.failure);
    expect(failed.tried.map((t) => t.mirror)).toEqual(mirrors.map((m) => m.url));
    expect(failed.tried[0]!.error).toBe('HTTP 404 Not Found');
    expect(failed.tried[1]!.error).toBe(`connection refused by 127.0.0.1:${port}`);
    expect(failed.tried[2]!.error).toMatch(/^cannot resolve host nonexistent\.invalid \((ENOTFOUND|EAI_AGAIN)\)$/);
    expect(failed.tried[3]!.error).toContain('timed out');
    // How many of the 1000 bytes were read before the reset depends on timing.
    expect(failed.tried[4]!.error).toMatch(/^connection closed by 127\.0\.0\.1:\d+ after \d+ bytes$/);
    for (const t of failed.tried) expect(failed.message).toContain(`${t.mirror}: ${t.error}`);
    expect(failed.message).toContain('could not fetch file.bin');
    expect(failed.message).toContain('slime store add-file FILE');
    expect(await destDirEntries()).toEqual([]);
  });

  it('says so when there are no mirrors at all', async () => {
    const err = await fetchFixed(fetchOpts([])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchFailedError);
    expect((err as Error).message).toContain('the derivation lists no mirrors');
  });

  it('leaves an existing dest untouched when the fetch fails', async () => {
    await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }]));
    await writeFile(dest, 'the previous file');
    const err = await fetchFixed(
      fetchOpts([{ url: `${base}/other.bin` }], { sha256: createHash('sha256').update('x').digest() }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashMismatchError);
    expect(await readFile(dest, 'utf8')).toBe('the previous file');
    expect(await destDirEntries()).toEqual(['file.bin']);
  });

  it('takes a file it fetched before from the cache without a request', async () => {
    await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }]));
    expect(requests).toEqual(['/good.bin']);
    await rm(dest);
    const lines: string[] = [];
    const result = await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }], { log: (l) => lines.push(l) }));
    expect(result).toEqual({ source: 'cache', fromCache: true });
    expect(requests).toEqual(['/good.bin']);
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(lines.some((l) => l.includes('local cache'))).toBe(true);
  });

  it('fetches again when the cached copy was damaged on disk', async () => {
    await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }]));
    const blobDir = join(cacheDir, 'content-v2', 'sha256');
    const hex = goodSha.toString('hex');
    const blob = join(blobDir, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
    const damaged = Buffer.from(good);
    damaged[1000] ^= 0xff;
    await writeFile(blob, damaged);
    await rm(dest);
    const lines: string[] = [];
    const result = await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }], { log: (l) => lines.push(l) }));
    expect(result.fromCache).toBe(false);
    expect(requests).toEqual(['/good.bin', '/good.bin']);
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(lines.some((l) => l.includes('damaged'))).toBe(true);
  });

  it('aborts mid-download with an AbortError and leaves nothing behind', async () => {
    const controller = new AbortController();
    const err = await fetchFixed(
      fetchOpts([{ url: `${base}/half-then-stall` }, { url: `${base}/good.bin` }], {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.bytes > 0) controller.abort();
        },
      }),
    ).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect((err as SlimeError).exitCode).toBe(ExitCode.interrupted);
    expect(requests).toEqual(['/half-then-stall']);
    expect(await destDirEntries()).toEqual([]);
    expect(await readdir(cacheDir).catch(() => [])).toEqual([]);
  });

  it('does nothing when the signal is already aborted', async () => {
    const err = await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }], { signal: AbortSignal.abort() })).catch(
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('AbortError');
    expect(requests).toEqual([]);
  });
});

describe('fetchFixed from file:// mirrors', () => {
  it('copies a local file and falls back past a missing one', async () => {
    const local = join(dir, 'local.bin');
    await writeFile(local, good);
    const missing = pathToFileURL(join(dir, 'missing.bin')).href;
    const lines: string[] = [];
    const result = await fetchFixed(
      fetchOpts([{ url: missing }, { url: pathToFileURL(local).href }], { log: (l) => lines.push(l) }),
    );
    expect(result.source).toBe(pathToFileURL(local).href);
    expect((await readFile(dest)).equals(good)).toBe(true);
    expect(lines.some((l) => l.includes(`no such file ${join(dir, 'missing.bin')}`))).toBe(true);
  });
});

describe('fetchFixed input checks', () => {
  it('rejects a digest that is not 32 bytes', async () => {
    await expect(fetchFixed(fetchOpts([{ url: `${base}/good.bin` }], { sha256: Buffer.alloc(20) }))).rejects.toThrow(
      'invalid sha256 for file.bin: expected a 32-byte digest, got 20 bytes',
    );
  });

  it('rejects a timeout that setTimeout cannot honour', async () => {
    await expect(fetchFixed(fetchOpts([{ url: `${base}/good.bin` }], { connectTimeoutMs: 0 }))).rejects.toThrow(
      'invalid connectTimeoutMs 0 for file.bin',
    );
  });

  it('names dest when it cannot be created, and leaves no temp file', async () => {
    await mkdir(dest, { recursive: true });
    const err = await fetchFixed(fetchOpts([{ url: `${base}/good.bin` }])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlimeError);
    expect((err as Error).message).toMatch(new RegExp(`^cannot create ${dest} for file.bin: .*; the path must be free`));
    expect(await destDirEntries()).toEqual(['file.bin']);
  });

  it('rejects an unsupported URL scheme before fetching anything', async () => {
    await expect(fetchFixed(fetchOpts([{ url: `${base}/good.bin` }, { url: 'ftp://example.test/f' }]))).rejects.toThrow(
      'invalid mirror for file.bin: ftp://example.test/f uses ftp: but only https:, http: and file: are supported',
    );
    expect(requests).toEqual([]);
  });

  it('rejects an apt-source file name with a path in it', async () => {
    await expect(
      fetchFixed(fetchOpts([{ aptSource: { package: 'hello', file: '../etc/passwd' } }])),
    ).rejects.toThrow(/apt-source file "..\/etc\/passwd" of hello must be a plain file name/);
  });
});

describe('describeMirror', () => {
  it('names URLs and apt-source mirrors', () => {
    expect(describeMirror({ url: 'https://example.test/Python-3.11.2.tgz' })).toBe('https://example.test/Python-3.11.2.tgz');
    expect(describeMirror({ aptSource: { package: 'python3.11', file: 'python3.11_3.11.2.orig.tar.gz' } })).toBe(
      'apt-source python3.11 (python3.11_3.11.2.orig.tar.gz)',
    );
    expect(describeMirror({ aptSource: { package: 'hello', version: '2.10-3', file: 'hello_2.10.orig.tar.gz' } })).toBe(
      'apt-source hello=2.10-3 (hello_2.10.orig.tar.gz)',
    );
  });
});
