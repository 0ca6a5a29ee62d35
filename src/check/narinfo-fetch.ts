/**
 * LEAD: a minimal narinfo reader for `slime check --against URL`, only until the
 * binary cache client of src/cache/ (branch `cache`) is merged: replace fetchNarinfo
 * with that client's narinfo query and delete this file.
 *
 * narinfo (Nix binary cache, `<URL>/<hash part>.narinfo`):
 *
 *   narinfo = line*
 *   line    = KEY ": " VALUE "\n"
 *   KEY     = StorePath | URL | Compression | FileHash | FileSize | NarHash | NarSize
 *           | References | Deriver | Sig | CA
 *   NarHash = "sha256:" nix-base32 (52 chars)  (older caches: "sha256:" hex)
 *
 * URL is file:///DIR (a directory laid out as a binary cache) or http(s)://HOST/PATH.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';
import { fromNixBase32, toNixBase32 } from '../hash/base32.js';
import { hashPartOf } from '../store/paths.js';

export interface Narinfo {
  storePath: string;
  narHash: string;
  url: string;
}

/** The narinfo of `storePath` in the cache at `base`, or undefined when the cache does not have it. */
export async function fetchNarinfo(base: string, storePath: string, signal?: AbortSignal): Promise<Narinfo | undefined> {
  const name = `${hashPartOf(storePath)}.narinfo`;
  let text: string;
  let where: string;
  if (base.startsWith('file://')) {
    where = path.join(new URL(base).pathname, name);
    try {
      text = fs.readFileSync(where, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SlimeError(`cannot read ${where}: ${(e as Error).message}; check the --against URL`);
    }
  } else if (/^https?:\/\//.test(base)) {
    where = `${base.replace(/\/+$/, '')}/${name}`;
    let res: Response;
    try {
      res = await fetch(where, { signal });
    } catch (e) {
      throw new SlimeError(`cannot reach ${where}: ${(e as Error).message}; check the --against URL and that the cache is up`);
    }
    if (res.status === 404 || res.status === 403) return undefined;
    if (!res.ok) throw new SlimeError(`${where} answered HTTP ${res.status}; check the --against URL`);
    text = await res.text();
  } else {
    throw new SlimeError(`--against ${base}: not a file:// or http(s):// URL; give a binary cache URL such as file:///srv/cache or http://127.0.0.1:8080`);
  }
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 2).trim());
  }
  const narHash = fields.get('NarHash');
  if (fields.get('StorePath') !== storePath || !narHash) {
    throw new SlimeError(`${where} is not a narinfo for ${storePath} (StorePath ${fields.get('StorePath') ?? 'missing'}, NarHash ${narHash ?? 'missing'}); is the cache for this store directory?`);
  }
  return { storePath, narHash: normaliseNarHash(narHash, where), url: where };
}

/** `sha256:<nix-base32>` from the forms a narinfo or the store uses (SRI, hex, base32). */
export function normaliseNarHash(h: string, where = 'the store'): string {
  if (h.startsWith('sha256-')) return `sha256:${toNixBase32(Buffer.from(h.slice(7), 'base64'))}`;
  const m = /^sha256:([0-9a-f]{64}|[0-9a-df-np-sv-z]{52})$/.exec(h);
  if (!m) throw new SlimeError(`NarHash "${h}" in ${where} is not a sha256 hash; only sha256 is supported`);
  return m[1].length === 64 ? `sha256:${toNixBase32(Buffer.from(m[1], 'hex'))}` : `sha256:${toNixBase32(fromNixBase32(m[1]))}`;
}
