/**
 * A short name for a long key, for naming files without node:crypto, whose loading (some
 * fifteen of Node's internal modules, 3-5 ms of a start) a no-op need not pay.
 *
 * 64-bit FNV-1a, twice (two offset bases), as 32 hex digits. Not a digest that must resist
 * anyone. The evaluation cache's file says which module and store directory it is for
 * (its check compares them), so two keys with one name would only take turns in one file;
 * an indirect gc root (src/store/roots.ts) says which link it roots, and two links with
 * one name would leave the earlier's path unrooted: 128 bits make that a chance of about
 * n^2 / 2^129 for n links, and making it on purpose takes one who can write the store's
 * roots, who can remove any root anyway.
 */
export function fileNameHash(key: string): string {
  const PRIME = 0x100000001b3n;
  const MASK = 0xffffffffffffffffn;
  let a = 0xcbf29ce484222325n;
  let b = 0x84222325cbf29ce4n;
  for (const byte of Buffer.from(key)) {
    a = ((a ^ BigInt(byte)) * PRIME) & MASK;
    b = ((b ^ BigInt(byte)) * PRIME) & MASK;
  }
  return a.toString(16).padStart(16, '0') + b.toString(16).padStart(16, '0');
}
