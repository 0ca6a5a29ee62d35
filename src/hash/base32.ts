/**
 * Nix's base32, used for hashes in store paths and in `nix-hash --base32` output.
 *
 * Grammar:
 *   base32 = { char }, with length(n bytes) = floor((8n - 1) / 5) + 1
 *   char   = "0".."9" | "a".."z" except "e", "o", "t", "u"
 *
 * Unlike RFC 4648, Nix reads the bytes as one little-endian bit string and prints
 * its 5-bit groups starting from the most significant one, so the first
 * character holds the last byte's high bits. There is no padding.
 */
import { SlimeError } from '../errors.js';

export const NIX_BASE32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

const charValue = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX_BASE32_ALPHABET.length; i++) charValue[NIX_BASE32_ALPHABET.charCodeAt(i)] = i;

/** Length of the base32 text for `byteCount` bytes. */
export function nixBase32Length(byteCount: number): number {
  return byteCount === 0 ? 0 : Math.floor((byteCount * 8 - 1) / 5) + 1;
}

/** Whether `code` (a char code) is a Nix base32 character. */
export function isNixBase32Char(code: number): boolean {
  return code < 128 && charValue[code] >= 0;
}

export function toNixBase32(bytes: Uint8Array): string {
  const len = nixBase32Length(bytes.length);
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    const low = bytes[i] >> j;
    const high = i + 1 < bytes.length ? bytes[i + 1] << (8 - j) : 0;
    out += NIX_BASE32_ALPHABET[(low | high) & 0x1f];
  }
  return out;
}

/** The byte count whose base32 text is `length` chars long, or -1 when no count gives that length. */
function byteCountFor(length: number): number {
  const bytes = Math.floor((length * 5) / 8);
  return nixBase32Length(bytes) === length ? bytes : -1;
}

export function fromNixBase32(s: string): Buffer {
  const size = byteCountFor(s.length);
  if (size < 0) {
    throw new SlimeError(
      `Nix base32 string '${s}' has length ${s.length}, which no byte string encodes to; ` +
        `check that it was copied whole (a sha256 hash is 52 characters, a store path hash 32).`,
    );
  }
  const out = Buffer.alloc(size);
  for (let n = 0; n < s.length; n++) {
    const code = s.charCodeAt(s.length - n - 1);
    const digit = code < 128 ? charValue[code] : -1;
    if (digit < 0) {
      throw new SlimeError(
        `Nix base32 string '${s}' contains '${s[s.length - n - 1]}', which is not in Nix's alphabet ` +
          `'${NIX_BASE32_ALPHABET}' (no e, o, t, u, no capitals); check the hash for typos.`,
      );
    }
    const b = n * 5;
    const i = b >> 3;
    const j = b & 7;
    out[i] |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < size) out[i + 1] |= carry;
    else if (carry !== 0) {
      throw new SlimeError(
        `Nix base32 string '${s}' encodes more than ${size} bytes (its first character is too large); ` +
          `it is not a valid Nix hash.`,
      );
    }
  }
  return out;
}
