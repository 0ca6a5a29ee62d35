/**
 * ed25519 signing keys in Nix's text form, and narinfo signatures.
 *
 * Grammar (as `nix-store --generate-binary-cache-key` writes them, libsodium layout):
 *   secret-key = name ":" base64(seed[32] public[32])
 *   public-key = name ":" base64(public[32])
 *   signature  = name ":" base64(ed25519(fingerprint)[64])     a narinfo's `Sig` value
 *   name       = 1 or more characters other than ":" (e.g. "cache.example.org-1")
 * The fingerprint is defined in ./narinfo.ts.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { SlimeError } from '../errors.js';

export interface SecretKey {
  name: string;
  key: KeyObject;
  /** The matching public key in Nix's form. */
  publicKey: string;
}

export interface PublicKey {
  name: string;
  key: KeyObject;
}

// DER prefixes that wrap a raw ed25519 seed (PKCS#8) and public key (SPKI).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function splitKey(text: string, what: string, size: number, hint: string): { name: string; bytes: Buffer } {
  const t = text.trim();
  const colon = t.indexOf(':');
  const bytes = colon > 0 ? Buffer.from(t.slice(colon + 1), 'base64') : Buffer.alloc(0);
  if (colon <= 0 || bytes.length !== size || !/^[A-Za-z0-9+/]+=*$/.test(t.slice(colon + 1))) {
    throw new SlimeError(`${what} ${JSON.stringify(t.slice(0, 40))} is not in Nix's NAME:BASE64 form (${size} bytes); ${hint}`);
  }
  return { name: t.slice(0, colon), bytes };
}

export function parseSecretKey(text: string, source = 'the secret key'): SecretKey {
  const { name, bytes } = splitKey(text, source, 64, 'make one with `slime key generate NAME` or `nix-store --generate-binary-cache-key`');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, bytes.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
  const derived = rawPublic(createPublicKey(key));
  if (!derived.equals(bytes.subarray(32))) {
    throw new SlimeError(`${source} is inconsistent: its public half does not belong to its seed; regenerate the key`);
  }
  return { name, key, publicKey: `${name}:${derived.toString('base64')}` };
}

export function parsePublicKey(text: string): PublicKey {
  const { name, bytes } = splitKey(text, 'trusted public key', 32, 'pass the contents of a NAME.pub file');
  return { name, key: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' }) };
}

function rawPublic(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** A new key pair, as `nix-store --generate-binary-cache-key NAME` makes it. */
export function generateKey(name: string): { secret: string; public: string } {
  if (!name || name.includes(':') || /\s/.test(name)) {
    throw new SlimeError(`key name ${JSON.stringify(name)} is not usable: it must be non-empty, without ":" or spaces (e.g. cache.example.org-1)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  const pub = rawPublic(publicKey);
  return {
    secret: `${name}:${Buffer.concat([seed, pub]).toString('base64')}`,
    public: `${name}:${pub.toString('base64')}`,
  };
}

export function signFingerprint(key: SecretKey, fingerprint: string): string {
  return `${key.name}:${sign(null, Buffer.from(fingerprint), key.key).toString('base64')}`;
}

/**
 * Which trusted key, if any, made one of `sigs` over `fingerprint`. Signatures by keys
 * that are not trusted are ignored, as Nix ignores them.
 */
export function trustedSigner(sigs: string[], fingerprint: string, trusted: PublicKey[]): string | undefined {
  for (const sig of sigs) {
    const colon = sig.indexOf(':');
    if (colon <= 0) continue;
    const name = sig.slice(0, colon);
    const bytes = Buffer.from(sig.slice(colon + 1), 'base64');
    if (bytes.length !== 64) continue;
    for (const k of trusted) {
      if (k.name === name && verify(null, Buffer.from(fingerprint), k.key, bytes)) return name;
    }
  }
  return undefined;
}
