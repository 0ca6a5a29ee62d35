import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { FetchAbortedError, MirrorFailure } from './attempt.js';
import { writeHashed } from './hashed-file.js';
import type { ProgressMeter } from './progress.js';

export interface DownloadContext {
  /** For messages: the mirror as `describeMirror` names it. */
  source: string;
  meter: ProgressMeter;
  signal?: AbortSignal;
  /** Give up on the mirror after this long without a byte (connecting included). */
  idleTimeoutMs: number;
}

/**
 * Downloads `url` into a new file `tmp`, returning its sha256. Throws MirrorFailure when
 * this mirror cannot deliver (the caller tries the next one) and FetchAbortedError when
 * `signal` fires.
 */
export async function downloadUrl(url: string, tmp: string, ctx: DownloadContext): Promise<Buffer> {
  return new URL(url).protocol === 'file:' ? copyFileUrl(url, tmp, ctx) : downloadHttp(url, tmp, ctx);
}

async function copyFileUrl(url: string, tmp: string, ctx: DownloadContext): Promise<Buffer> {
  const path = fileURLToPath(url);
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new MirrorFailure(`${path} is not a regular file`);
    ctx.meter.setTotal(info.size);
    return await writeHashed(createReadStream(path), tmp, (n) => ctx.meter.add(n), ctx.signal);
  } catch (err) {
    if (ctx.signal?.aborted) throw new FetchAbortedError(ctx.source, ctx.signal.reason);
    if (err instanceof MirrorFailure) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MirrorFailure(`no such file ${path}`);
    if (code === 'EACCES') throw new MirrorFailure(`no permission to read ${path}`);
    throw new MirrorFailure(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/** Why a mirror stopped answering, distinguished from the user cancelling. */
class IdleTimeout extends Error {}

async function downloadHttp(url: string, tmp: string, ctx: DownloadContext): Promise<Buffer> {
  const { meter, signal, idleTimeoutMs } = ctx;
  const stalled = new AbortController();
  const combined = signal ? AbortSignal.any([signal, stalled.signal]) : stalled.signal;
  // One timer covers connecting, waiting for headers and every gap between chunks: a
  // mirror that accepts the connection and then sends nothing is as useless as one
  // that never answers, and both must hand over to the next mirror.
  const timer = setTimeout(() => stalled.abort(new IdleTimeout()), idleTimeoutMs);
  let phase = 'connecting';
  try {
    const response = await fetch(url, {
      signal: combined,
      // A .tar.gz must arrive as stored: with gzip transfer-encoding undici would
      // decompress it, and the bytes would no longer match the hash or Content-Length.
      headers: { 'accept-encoding': 'identity' },
    });
    timer.refresh();
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      throw new MirrorFailure(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    const length = response.headers.get('content-length');
    meter.setTotal(length !== null && /^\d+$/.test(length) ? Number(length) : undefined);
    phase = 'receiving';
    const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    const digest = await writeHashed(
      body,
      tmp,
      (n) => {
        timer.refresh();
        meter.add(n);
      },
      combined,
    );
    meter.finish();
    return digest;
  } catch (err) {
    if (signal?.aborted) throw new FetchAbortedError(ctx.source, signal.reason);
    if (stalled.signal.aborted) {
      const after = phase === 'connecting' ? 'before any response' : `after ${meter.count} bytes`;
      throw new MirrorFailure(`timed out: no data for ${idleTimeoutMs / 1000} s ${after}`);
    }
    if (err instanceof MirrorFailure) throw err;
    const reason = describeNetworkError(err, new URL(url));
    throw new MirrorFailure(phase === 'connecting' ? reason : `${reason} after ${meter.count} bytes`);
  } finally {
    clearTimeout(timer);
  }
}

/** Turns undici's `TypeError: fetch failed` into what actually went wrong. */
function describeNetworkError(err: unknown, url: URL): string {
  const cause = (err instanceof Error && err.cause instanceof Error ? err.cause : err) as NodeJS.ErrnoException;
  const code = cause?.code;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${url.hostname} (${code})`;
    case 'ECONNREFUSED':
      return `connection refused by ${url.host}`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `connection closed by ${url.host}`;
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return `no route to ${url.host} (${code})`;
    default: {
      const message = cause instanceof Error ? cause.message : String(cause);
      return code ? `${message} (${code})` : message;
    }
  }
}
