/**
 * The NAR (Nix ARchive) wire format, shared by the serializer and the parser.
 *
 * Grammar (as in Nix's manual):
 *   nar             = str("nix-archive-1"), nar-obj
 *   nar-obj         = str("("), nar-obj-inner, str(")")
 *   nar-obj-inner   = str("type"), str("regular"), [ str("executable"), str("") ], str("contents"), str(contents)
 *                   | str("type"), str("symlink"), str("target"), str(target)
 *                   | str("type"), str("directory"), { directory-entry }
 *   directory-entry = str("entry"), str("("), str("name"), str(name), str("node"), nar-obj, str(")")
 *   str(s)          = int(|s|), pad(s)
 *   int(n)          = n as 64-bit little endian
 *   pad(s)          = s, then zero bytes up to a multiple of 8
 *
 * Directory entries come sorted by name as byte strings, each name at most once.
 */

export const NAR_MAGIC = 'nix-archive-1';

/** Zero bytes needed after `length` bytes to reach a multiple of 8. */
export function padLength(length: number): number {
  return (8 - (length % 8)) % 8;
}

export const ZERO_PADDING = Buffer.alloc(8);

export function encodeInt(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** `str(s)`: length, bytes, padding, as one buffer. */
export function encodeStr(s: string | Buffer): Buffer {
  const bytes = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([encodeInt(bytes.length), bytes, ZERO_PADDING.subarray(0, padLength(bytes.length))]);
}

/** Concatenation of `str(t)` for each token: the fixed parts of the format. */
export function encodeTokens(...tokens: string[]): Buffer {
  return Buffer.concat(tokens.map((t) => encodeStr(t)));
}
