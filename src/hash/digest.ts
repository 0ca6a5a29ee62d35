/**
 * Hash algorithms, and hashes as text in the forms Nix reads and prints.
 *
 * Grammar of what `parseHash` accepts (as Nix's `Hash::parseAny`):
 *   hash   = algo ":" digest        e.g. "sha256:1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"
 *          | algo "-" base64        SRI, e.g. "sha256-LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564="
 *          | digest                 only when the algorithm is given or the length names one
 *   algo   = "sha256" | "sha512" | "sha1" | "md5"
 *   digest = base16 | nix-base32 | base64, told apart by length for the algorithm
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { SlimeError } from '../errors.js';
import { fromNixBase32, nixBase32Length, toNixBase32 } from './base32.js';

export type HashAlgo = 'sha256' | 'sha512' | 'sha1' | 'md5';

export interface Hash {
  algo: HashAlgo;
  digest: Buffer;
}

export const HASH_ALGOS: readonly HashAlgo[] = ['sha256', 'sha512', 'sha1', 'md5'];

export const HASH_SIZE: Readonly<Record<HashAlgo, number>> = { sha256: 32, sha512: 64, sha1: 20, md5: 16 };

export function isHashAlgo(s: string): s is HashAlgo {
  return (HASH_ALGOS as readonly string[]).includes(s);
}

/** Checks a user-supplied algorithm name. */
export function toHashAlgo(s: string): HashAlgo {
  if (isHashAlgo(s)) return s;
  throw new SlimeError(`unknown hash algorithm '${s}'; use one of ${HASH_ALGOS.join(', ')}.`);
}

/** Folds `hash` into `size` bytes by XOR, as Nix does to shorten store path hashes to 20 bytes. */
export function compressHash(hash: Uint8Array, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < hash.length; i++) out[i % size] ^= hash[i];
  return out;
}

export function hashBytes(data: string | Uint8Array, algo: HashAlgo = 'sha256'): Buffer {
  return createHash(algo).update(data).digest();
}

/** Hashes a file's contents without holding them in memory. */
export async function hashFile(path: string, algo: HashAlgo = 'sha256'): Promise<Buffer> {
  const h = createHash(algo);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'it does not exist'
        : err.code === 'EISDIR'
          ? 'it is a directory, and only a regular file can be hashed flat (hash a directory by its NAR)'
          : err.message;
    throw new SlimeError(`cannot hash '${path}': ${why}; check the path.`);
  }
  return h.digest();
}

export type HashStyle = 'base16' | 'base32' | 'sri' | 'nix';

export function formatHash(h: Hash, style: HashStyle): string {
  switch (style) {
    case 'base16':
      return h.digest.toString('hex');
    case 'base32':
      return toNixBase32(h.digest);
    case 'sri':
      return `${h.algo}-${h.digest.toString('base64')}`;
    case 'nix':
      return `${h.algo}:${toNixBase32(h.digest)}`;
  }
}

const HEX = /^[0-9a-fA-F]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Length(size: number): number {
  return Math.ceil(size / 3) * 4;
}

/** Decodes a digest whose algorithm is known, choosing the encoding by length as Nix does. */
function decodeDigest(text: string, digest: string, algo: HashAlgo, sriOnly: boolean): Buffer {
  const size = HASH_SIZE[algo];
  const bad = (why: string): SlimeError =>
    new SlimeError(`hash '${text}' is not a valid ${algo} hash: ${why}`);
  if (!sriOnly && digest.length === size * 2) {
    if (!HEX.test(digest)) throw bad('it has the length of base16 but contains characters other than 0-9, a-f.');
    return Buffer.from(digest, 'hex');
  }
  if (!sriOnly && digest.length === nixBase32Length(size)) return fromNixBase32(digest);
  if (digest.length === base64Length(size)) {
    if (!BASE64.test(digest)) throw bad('it has the length of base64 but contains characters outside base64.');
    const bytes = Buffer.from(digest, 'base64');
    if (bytes.length !== size) throw bad(`its base64 decodes to ${bytes.length} bytes, not ${size}.`);
    return bytes;
  }
  const forms = sriOnly
    ? `${base64Length(size)} base64 characters`
    : `${size * 2} base16, ${nixBase32Length(size)} Nix base32 or ${base64Length(size)} base64 characters`;
  throw bad(`it is ${digest.length} characters long, but ${algo} needs ${forms}.`);
}

/** The one algorithm whose digest, in some encoding, has this length, if only one does. */
function algoForLength(length: number): HashAlgo | undefined {
  const fits = HASH_ALGOS.filter((a) => {
    const size = HASH_SIZE[a];
    return length === size * 2 || length === nixBase32Length(size) || length === base64Length(size);
  });
  return fits.length === 1 ? fits[0] : undefined;
}

function checkAlgo(text: string, found: HashAlgo, expected: HashAlgo | undefined): HashAlgo {
  if (expected !== undefined && expected !== found) {
    throw new SlimeError(`hash '${text}' is a ${found} hash, but a ${expected} hash is needed here.`);
  }
  return found;
}

export function parseHash(s: string, algo?: HashAlgo): Hash {
  const colon = s.indexOf(':');
  if (colon >= 0) {
    const named = toHashAlgoIn(s, s.slice(0, colon));
    const a = checkAlgo(s, named, algo);
    return { algo: a, digest: decodeDigest(s, s.slice(colon + 1), a, false) };
  }
  const dash = s.indexOf('-');
  if (dash >= 0) {
    const named = toHashAlgoIn(s, s.slice(0, dash));
    const a = checkAlgo(s, named, algo);
    return { algo: a, digest: decodeDigest(s, s.slice(dash + 1), a, true) };
  }
  const a = algo ?? algoForLength(s.length);
  if (a === undefined) {
    throw new SlimeError(
      `hash '${s}' does not say which algorithm it uses and its length (${s.length}) does not tell; ` +
        `write it as 'sha256:${s}' or in SRI form 'sha256-<base64>'.`,
    );
  }
  return { algo: a, digest: decodeDigest(s, s, a, false) };
}

function toHashAlgoIn(text: string, name: string): HashAlgo {
  if (isHashAlgo(name)) return name;
  throw new SlimeError(`hash '${text}' names unknown algorithm '${name}'; use one of ${HASH_ALGOS.join(', ')}.`);
}
