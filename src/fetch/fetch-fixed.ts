import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import cacache from 'cacache';
import ssri from 'ssri';
import { ExitCode, SlimeError } from '../errors.js';
import { fetchAptSource } from './apt-source.js';
import { FetchAbortedError, MirrorFailure, throwIfAborted } from './attempt.js';
import { downloadUrl } from './download-url.js';
import { checkMirror, describeMirror, type Mirror } from './mirror.js';
import { fetchPip } from './pip-download.js';
import { ProgressMeter, type FetchProgress } from './progress.js';

export type { FetchProgress } from './progress.js';
export { FetchAbortedError } from './attempt.js';

/** A mirror served a file, but not the one the derivation pins. */
export class HashMismatchError extends SlimeError {
  constructor(
    fileName: string,
    /** SRI (`sha256-…`) of the file the derivation asked for. */
    readonly expected: string,
    /** SRI of what the mirror served. */
    readonly actual: string,
    /** The mirror, as `describeMirror` names it. */
    readonly source: string,
    /** Every mirror tried, mismatches included. */
    readonly tried: { mirror: string; error: string }[],
  ) {
    const others = tried.filter((t) => t.mirror !== source);
    super(
      `hash mismatch for ${fileName} from ${source}: expected ${expected}, got ${actual}; ` +
        `the mirror served a different file` +
        (others.length > 0 ? `\n${formatTried(others, 'also tried')}` : '') +
        `\nIf the new file is the one you want, put ${actual} in the derivation; ` +
        `otherwise add a mirror that serves the original, or add it by hash with \`slime store add-file FILE\`.`,
      ExitCode.hashMismatch,
    );
    this.name = 'HashMismatchError';
  }
}

/** No mirror delivered the file; none served a wrong one either. */
export class FetchFailedError extends SlimeError {
  constructor(
    fileName: string,
    /** Every mirror tried, in order, with why it failed. */
    readonly tried: { mirror: string; error: string }[],
  ) {
    super(
      `could not fetch ${fileName}: ` +
        (tried.length === 0 ? 'the derivation lists no mirrors' : `all ${tried.length} mirror(s) failed`) +
        (tried.length > 0 ? `\n${formatTried(tried, 'tried')}` : '') +
        `\nAdd a reachable mirror to the derivation, or, if you have the file, add it by hash with \`slime store add-file FILE\`.`,
      ExitCode.failure,
    );
    this.name = 'FetchFailedError';
  }
}

function formatTried(tried: { mirror: string; error: string }[], label: string): string {
  return `${label}:\n` + tried.map((t) => `  - ${t.mirror}: ${t.error}`).join('\n');
}

export interface FetchFixedOptions {
  /** The file's name, for messages (e.g. "Python-3.11.2.tgz"). */
  name: string;
  /** The sha256 digest the file must have. */
  sha256: Buffer;
  /** Tried in order until one serves a file with the right hash. */
  mirrors: Mirror[];
  /** The file to create. It appears only once verified (temp file + rename). */
  dest: string;
  /** A cacache directory holding fetched files by integrity. */
  cacheDir: string;
  /** Scratch space for `apt-get source` and `pip download`; the caller removes it. */
  workDir: string;
  /** At most about ten calls a second per attempt, plus one at the end of each. */
  onProgress?: (p: FetchProgress) => void;
  /** One line per attempt and outcome, for the build log. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Give up on a mirror after this long without a byte; default 30 s. */
  connectTimeoutMs?: number;
}

export interface FetchFixedResult {
  /** The mirror that served the file, or `cache` when no mirror was needed. */
  source: string;
  fromCache: boolean;
}

const defaultIdleTimeoutMs = 30_000;

/**
 * Produces the file of a fixed-output derivation at `dest`: from the local cache when
 * it holds a blob of this hash, otherwise from the first mirror that serves bytes with
 * this hash. Nothing unverified ever appears at `dest`, and a failure leaves no file.
 */
export async function fetchFixed(opts: FetchFixedOptions): Promise<FetchFixedResult> {
  const { name, sha256, mirrors, dest, cacheDir, workDir, onProgress, signal } = opts;
  const log = opts.log ?? (() => {});
  if (!Buffer.isBuffer(sha256) || sha256.length !== 32) {
    throw new SlimeError(
      `invalid sha256 for ${name}: expected a 32-byte digest, got ${Buffer.isBuffer(sha256) ? `${sha256.length} bytes` : typeof sha256}; ` +
        `fix the hash in the derivation`,
    );
  }
  if (!Array.isArray(mirrors)) {
    throw new SlimeError(`invalid mirrors for ${name}: expected a list, got ${typeof mirrors}; fix the derivation`);
  }
  for (const m of mirrors) checkMirror(m, name);
  const idleTimeoutMs = opts.connectTimeoutMs ?? defaultIdleTimeoutMs;
  // setTimeout fires at once for anything above 2^31-1 ms, which would fail every mirror.
  if (!(idleTimeoutMs > 0 && idleTimeoutMs <= 2 ** 31 - 1)) {
    throw new SlimeError(
      `invalid connectTimeoutMs ${idleTimeoutMs} for ${name}: it must be a number of milliseconds between 1 and ${2 ** 31 - 1}`,
    );
  }
  throwIfAborted(signal, name);

  const hex = sha256.toString('hex');
  const integrity = ssri.fromHex(hex, 'sha256').toString();
  try {
    await mkdir(dirname(dest), { recursive: true });
  } catch (err) {
    throw new SlimeError(
      `cannot create the directory of ${dest} for ${name}: ${(err as Error).message}; check the path and its permissions`,
    );
  }
  const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(4).toString('hex')}.part`);

  try {
    if (await copyFromCache(cacheDir, integrity, tmp, signal, name, log)) {
      await moveIntoPlace(tmp, dest, name);
      log(`${name}: taken from the local cache (${integrity})`);
      return { source: 'cache', fromCache: true };
    }

    const tried: { mirror: string; error: string }[] = [];
    let firstMismatch: { source: string; actual: string } | undefined;
    for (const mirror of mirrors) {
      const source = describeMirror(mirror);
      log(`${name}: fetching from ${source}`);
      const meter = new ProgressMeter(source, onProgress);
      let digest: Buffer;
      try {
        digest =
          'url' in mirror
            ? await downloadUrl(mirror.url, tmp, { source, meter, signal, idleTimeoutMs })
            : 'pip' in mirror
              ? await fetchPip(mirror.pip, tmp, { source, meter, workDir, signal })
              : await fetchAptSource(mirror.aptSource, tmp, { source, meter, workDir, signal });
      } catch (err) {
        await rm(tmp, { force: true });
        if (signal?.aborted) throw asAbort(err, name, signal);
        if (!(err instanceof MirrorFailure)) throw err;
        tried.push({ mirror: source, error: err.reason });
        log(`${name}: ${source} failed: ${err.reason}`);
        continue;
      }
      if (!digest.equals(sha256)) {
        await rm(tmp, { force: true });
        const actual = ssri.fromHex(digest.toString('hex'), 'sha256').toString();
        firstMismatch ??= { source, actual };
        tried.push({ mirror: source, error: `hash mismatch: expected ${integrity}, got ${actual}` });
        log(`${name}: ${source} served a different file: expected ${integrity}, got ${actual}`);
        continue;
      }
      await addToCache(cacheDir, hex, integrity, tmp, name, log);
      throwIfAborted(signal, name);
      await moveIntoPlace(tmp, dest, name);
      log(`${name}: fetched from ${source} (${meter.count} bytes, ${integrity})`);
      return { source, fromCache: false };
    }
    if (firstMismatch) {
      throw new HashMismatchError(name, integrity, firstMismatch.actual, firstMismatch.source, tried);
    }
    throw new FetchFailedError(name, tried);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function moveIntoPlace(tmp: string, dest: string, name: string): Promise<void> {
  try {
    await rename(tmp, dest);
  } catch (err) {
    throw new SlimeError(
      `cannot create ${dest} for ${name}: ${(err as Error).message}; the path must be free or a file, in a writable directory`,
    );
  }
}

function asAbort(err: unknown, name: string, signal: AbortSignal): Error {
  return err instanceof FetchAbortedError ? err : new FetchAbortedError(name, signal.reason);
}

/**
 * Copies the cached blob of `integrity` to `tmp`; cacache re-hashes it while reading, so
 * a blob damaged on disk is detected, removed and fetched again rather than used.
 */
async function copyFromCache(
  cacheDir: string,
  integrity: string,
  tmp: string,
  signal: AbortSignal | undefined,
  name: string,
  log: (line: string) => void,
): Promise<boolean> {
  if (!(await cacache.get.hasContent(cacheDir, integrity))) return false;
  try {
    await pipeline(
      cacache.get.stream.byDigest(cacheDir, integrity, { memoize: false }),
      createWriteStream(tmp, { flags: 'wx' }),
      signal ? { signal } : {},
    );
    return true;
  } catch (err) {
    await rm(tmp, { force: true });
    if (signal?.aborted) throw asAbort(err, name, signal);
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINTEGRITY' && code !== 'EBADSIZE') throw err;
    await cacache.rm.content(cacheDir, integrity);
    log(`${name}: the cached copy in ${cacheDir} was damaged (${code}) and was removed; fetching it again`);
    return false;
  }
}

/**
 * Puts the verified file into the cache so the next fetch needs no network. The fetch
 * has already succeeded, so a cache that cannot be written costs only a later
 * download: it is logged, not thrown.
 */
async function addToCache(
  cacheDir: string,
  hex: string,
  integrity: string,
  file: string,
  name: string,
  log: (line: string) => void,
): Promise<void> {
  try {
    await pipeline(
      createReadStream(file),
      cacache.put.stream(cacheDir, `fetch:${hex}`, { integrity, algorithms: ['sha256'] }),
    );
  } catch (err) {
    log(`${name}: could not add to the cache ${cacheDir}: ${(err as Error).message}; the next fetch will download it again`);
  }
}
