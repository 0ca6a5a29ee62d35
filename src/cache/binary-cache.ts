/**
 * A binary cache: a tree of files in Nix's layout, wherever it is kept.
 *
 *   nix-cache-info               ./cache-info.ts
 *   <hashpart>.narinfo           ./narinfo.ts
 *   nar/<filehash>.nar[.zst|.xz] a NAR, compressed; filehash = base32 sha256 of the file
 *
 * Implementations side by side: ./file-cache.ts (`file:///dir`) and ./http-cache.ts
 * (`http://`, `https://`: GET/HEAD to read, PUT to write, as WebDAV servers, static
 * hosts and `slime cache serve` take it). Everything above this interface (push,
 * substitution, verify) works the same on each.
 */
import type { Readable } from 'node:stream';
import { SlimeError } from '../errors.js';

export interface CacheFile {
  body: Readable;
  /** From Content-Length or the file's size. */
  size?: number;
}

export interface BinaryCache {
  /** The cache as the user named it (no credentials): what messages say. */
  readonly url: string;
  /** The file at `rel` (a path relative to the cache root), or undefined if the cache has no such file. */
  getFile(rel: string, signal?: AbortSignal): Promise<CacheFile | undefined>;
  hasFile(rel: string): Promise<boolean>;
  /** Stores a local file at `rel`; the local file is consumed (moved or removed). Visible only once complete. */
  putFile(rel: string, localFile: string, contentType: string): Promise<void>;
  putText(rel: string, text: string, contentType: string): Promise<void>;
  /**
   * A local directory where a file to be put may be prepared, so that putFile can
   * move it instead of copying it (a file:// cache's own nar/); else the system's temp dir.
   */
  readonly stagingDir?: string;
  /** The narinfo file names at the root, where the cache can list them (WebDAV PROPFIND for HTTP). */
  listNarInfos(): Promise<string[] | undefined>;
}

/** A cache did not answer as it should: unreachable, an HTTP error, a timeout, a refusal. */
export class CacheError extends SlimeError {}

export async function openCache(url: string, env: NodeJS.ProcessEnv = process.env): Promise<BinaryCache> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SlimeError(`binary cache ${JSON.stringify(url)} is not a URL; use file:///path/to/dir or http(s)://host/path`);
  }
  if (parsed.protocol === 'file:') return new (await import('./file-cache.js')).FileCache(url);
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return new (await import('./http-cache.js')).HttpCache(url, env);
  throw new SlimeError(`binary cache ${url}: the ${parsed.protocol.replace(/:$/, '')} scheme is not supported; use file:// or http(s)://`);
}

/** Reads a small text file (a narinfo, nix-cache-info) whole, refusing anything larger than `max`. */
export async function readSmallFile(cache: BinaryCache, rel: string, max: number): Promise<string | undefined> {
  const file = await cache.getFile(rel);
  if (!file) return undefined;
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of file.body) {
    size += (chunk as Buffer).length;
    if (size > max) {
      file.body.destroy();
      throw new CacheError(`${rel} is larger than ${max} bytes, which no ${rel.endsWith('.narinfo') ? 'narinfo' : 'such file'} is`);
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** nix-cache-info is a few lines; anything larger is not one. */
const MAX_CACHE_INFO_BYTES = 64 * 1024;

/** The cache's nix-cache-info, or undefined when it has none. */
export function readCacheInfoFile(cache: BinaryCache): Promise<string | undefined> {
  return readSmallFile(cache, 'nix-cache-info', MAX_CACHE_INFO_BYTES);
}

/**
 * The same for a command that reads the cache and can do nothing without it: a cache
 * that cannot be read is an error naming it, `hint` (the command's next step) at its end.
 */
export async function readReachableCacheInfo(cache: BinaryCache, hint = ''): Promise<string | undefined> {
  try {
    return await readCacheInfoFile(cache);
  } catch (e) {
    throw new SlimeError(`binary cache ${cache.url} is not reachable: ${(e as Error).message}${hint}`);
  }
}

/** Whether a request path stays inside the cache: relative, no `..`, no empty or dot segments. */
export function isSafeRelativePath(rel: string): boolean {
  if (rel.length === 0 || rel.startsWith('/') || rel.includes('\\') || rel.includes('\0')) return false;
  return rel.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}
