/**
 * Which parts of two `.pyc` files differ.
 *
 * The format (PEP 552, CPython 3.7+):
 *
 *   pyc    = magic(4) flags(4) validation(8) code
 *   magic  = u16le version magic, "\r\n"
 *   flags  = u32le: bit 0 set: hash-based; bit 1: check_source (hash-based only)
 *   validation = flags bit 0 clear: mtime u32le, source size u32le
 *              | flags bit 0 set:   SipHash of the source (8 bytes)
 *   code   = the marshalled code object, to the end of the file
 */
import { firstDifference, readAt, sub, type Range } from './ranges.js';
import type { PycField, PycDifference } from '../run/differences.js';
export type { PycField, PycDifference };

const HEADER = 16;

export function diffPyc(a: Range, b: Range): PycDifference | undefined {
  if (a.length < HEADER || b.length < HEADER) return undefined;
  const ha = readAt(a, 0, HEADER);
  const hb = readAt(b, 0, HEADER);
  if (ha.toString('latin1', 2, 4) !== '\r\n' || hb.toString('latin1', 2, 4) !== '\r\n') return undefined;
  const fields: PycField[] = [];
  const differs = (s: number, e: number) => !ha.subarray(s, e).equals(hb.subarray(s, e));
  if (differs(0, 4)) fields.push('magic');
  if (differs(4, 8)) fields.push('flags');
  const hashBased = (ha.readUInt32LE(4) & 1) === 1 && (hb.readUInt32LE(4) & 1) === 1;
  if (hashBased) {
    if (differs(8, 16)) fields.push('source-hash');
  } else {
    if (differs(8, 12)) fields.push('mtime');
    if (differs(12, 16)) fields.push('source-size');
  }
  const codeOffset = firstDifference(sub(a, HEADER, a.length - HEADER), sub(b, HEADER, b.length - HEADER));
  if (codeOffset !== undefined) fields.push('code');
  return { fields, ...(codeOffset !== undefined ? { codeOffset } : {}) };
}
