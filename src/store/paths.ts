/**
 * Store path computation, as Nix 2.8's `makeStorePath` and friends.
 *
 * Grammar:
 *   store-path  = store-dir "/" hash-part "-" name
 *   hash-part   = 32 Nix base32 characters: the first 20 bytes of
 *                 sha256(fingerprint), XOR-folded (compressHash)
 *   fingerprint = type ":sha256:" hex(inner-digest) ":" store-dir ":" name
 *   type        = "text" { ":" reference }                        files added as text, .drv files
 *               | "source" { ":" reference }                      recursive sha256 fixed-output
 *               | "output:" output-name                           everything else
 *   name        = 1..211 of [a-zA-Z0-9+-._?=]
 * References are full store paths, sorted.
 */
import { SlimeError } from '../errors.js';
import { isNixBase32Char, toNixBase32 } from '../hash/base32.js';
import { type HashAlgo, HASH_SIZE, compressHash, hashBytes } from '../hash/digest.js';

export const HASH_PART_LENGTH = 32;
const MAX_NAME_LENGTH = 211;

export function makeStorePath(type: string, innerDigest: Buffer, name: string, storeDir: string): string {
  checkStoreName(name);
  const fingerprint = `${type}:sha256:${innerDigest.toString('hex')}:${storeDir}:${name}`;
  return `${storeDir}/${toNixBase32(compressHash(hashBytes(fingerprint), 20))}-${name}`;
}

/** `type` followed by each reference once, sorted, as Nix's `makeType`. */
function typeWithReferences(type: string, references: Iterable<string>): string {
  return [type, ...[...new Set(references)].sort()].join(':');
}

export interface ContentAddress {
  /** flat: the hash is of the file's contents; recursive: of the path's NAR. */
  method: 'flat' | 'recursive';
  algo: HashAlgo;
  digest: Buffer;
}

export function makeFixedOutputPath(storeDir: string, name: string, ca: ContentAddress, references: string[] = []): string {
  if (ca.digest.length !== HASH_SIZE[ca.algo]) {
    throw new SlimeError(
      `cannot compute the store path of '${name}': its ${ca.algo} hash is ${ca.digest.length} bytes, not ${HASH_SIZE[ca.algo]}; check the hash.`,
    );
  }
  if (ca.method === 'recursive' && ca.algo === 'sha256') {
    return makeStorePath(typeWithReferences('source', references), ca.digest, name, storeDir);
  }
  if (references.length > 0) {
    throw new SlimeError(
      `cannot compute the store path of '${name}': only paths hashed recursively with sha256 may have references, ` +
        `and this one is ${ca.method} ${ca.algo}; hash it with sha256 over its NAR, or drop the references.`,
    );
  }
  const method = ca.method === 'recursive' ? 'r:' : '';
  const inner = hashBytes(`fixed:out:${method}${ca.algo}:${ca.digest.toString('hex')}:`);
  return makeStorePath('output:out', inner, name, storeDir);
}

export function makeTextPath(storeDir: string, name: string, contents: string | Buffer, references: string[]): string {
  return makeStorePath(typeWithReferences('text', references), hashBytes(contents), name, storeDir);
}

/** The path of output `outputName` of an input-addressed derivation with modulo hash `drvHash`. */
export function makeOutputPath(storeDir: string, drvName: string, outputName: string, drvHash: Buffer): string {
  const name = outputName === 'out' ? drvName : `${drvName}-${outputName}`;
  return makeStorePath(`output:${outputName}`, drvHash, name, storeDir);
}

/** Why `name` is not a valid store path name, or undefined if it is. */
function storeNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is ${name.length} characters long, more than ${MAX_NAME_LENGTH}`;
  const bad = [...name].find((c) => !/^[a-zA-Z0-9+\-._?=]$/.test(c));
  if (bad !== undefined) return `it contains ${JSON.stringify(bad)}`;
  return undefined;
}

export function checkStoreName(name: string): void {
  const problem = storeNameProblem(name);
  if (problem !== undefined) {
    throw new SlimeError(
      `invalid store path name ${JSON.stringify(name)}: ${problem}; ` +
        `a name is 1 to ${MAX_NAME_LENGTH} characters from a-z, A-Z, 0-9 and + - . _ ? =.`,
    );
  }
}

export function isHashPart(s: string): boolean {
  if (s.length !== HASH_PART_LENGTH) return false;
  for (let i = 0; i < s.length; i++) if (!isNixBase32Char(s.charCodeAt(i))) return false;
  return true;
}

/** Whether `p` is a path directly in `storeDir` with a valid hash part and name. */
export function isStorePathIn(storeDir: string, p: string): boolean {
  if (!p.startsWith(`${storeDir}/`)) return false;
  const base = p.slice(storeDir.length + 1);
  return (
    base.length > HASH_PART_LENGTH + 1 &&
    isHashPart(base.slice(0, HASH_PART_LENGTH)) &&
    base[HASH_PART_LENGTH] === '-' &&
    storeNameProblem(base.slice(HASH_PART_LENGTH + 1)) === undefined
  );
}

export function hashPartOf(storePath: string): string {
  const base = storePath.slice(storePath.lastIndexOf('/') + 1);
  const hashPart = base.slice(0, HASH_PART_LENGTH);
  if (!isHashPart(hashPart) || base[HASH_PART_LENGTH] !== '-') {
    throw new SlimeError(
      `'${storePath}' is not a store path: its base name must start with ${HASH_PART_LENGTH} Nix base32 characters and '-'; ` +
        `pass a path such as '/nix/store/<hash>-<name>'.`,
    );
  }
  return hashPart;
}

/** The name of a store path: what follows the hash part. */
export function storePathName(storePath: string): string {
  hashPartOf(storePath);
  return storePath.slice(storePath.lastIndexOf('/') + HASH_PART_LENGTH + 2);
}
