/**
 * Which members of two tar archives differ, and in which header fields.
 *
 * The format (POSIX ustar, with GNU and pax long names):
 *
 *   archive = (header(512) data padding)* zero-block zero-block
 *   header  = name[100] mode[8]@100 uid[8]@108 gid[8]@116 size[12]@124 mtime[12]@136
 *             chksum[8]@148 typeflag[1]@156 linkname[100]@157 magic[6]@257 ("ustar")
 *             version[2]@263 uname[32]@265 gname[32]@297 devmajor[8] devminor[8]
 *             prefix[155]@345
 *   numbers = octal ASCII, NUL/space ended
 *   data    = size bytes, padded with NULs to a multiple of 512
 *   typeflag 'L': the data is the next member's long name (GNU)
 *   typeflag 'x': the data is pax records "LEN key=value\n"; `path` names the next member
 *   typeflag 'g': global pax records (ignored)
 *
 * Only uncompressed archives; a compressed one is compared as bytes.
 */
import { firstDifference, readAt, sub, type Range } from './ranges.js';
import type { TarMemberDifference } from '../run/differences.js';
export type { TarMemberDifference };

export interface TarMember {
  name: string;
  fields: Record<'mode' | 'uid' | 'gid' | 'mtime' | 'type' | 'linkname' | 'uname' | 'gname', string>;
  data: Range;
}

export function isTar(head: Buffer): boolean {
  return head.length >= 263 && head.toString('latin1', 257, 262) === 'ustar';
}

const str = (h: Buffer, s: number, n: number) => {
  const end = h.indexOf(0, s);
  return h.toString('latin1', s, end === -1 || end > s + n ? s + n : end);
};
const octal = (h: Buffer, s: number, n: number) => parseInt(str(h, s, n).trim() || '0', 8);

export function readTar(r: Range): TarMember[] | undefined {
  const members: TarMember[] = [];
  let at = 0;
  let nextName: string | undefined;
  while (at + 512 <= r.length) {
    const h = readAt(r, at, 512);
    if (h.every((x) => x === 0)) break;
    if (h.toString('latin1', 257, 262) !== 'ustar') return undefined;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const data = sub(r, at + 512, size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      nextName = readAt(data, 0, size).toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (type === 'x' || type === 'g') {
      const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(readAt(data, 0, size).toString('utf8'));
      if (type === 'x' && path) nextName = path[1];
      continue;
    }
    const prefix = str(h, 345, 155);
    const name = nextName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    nextName = undefined;
    members.push({
      name,
      fields: {
        mode: str(h, 100, 8).trim(),
        uid: String(octal(h, 108, 8)),
        gid: String(octal(h, 116, 8)),
        mtime: String(octal(h, 136, 12)),
        type,
        linkname: str(h, 157, 100),
        uname: str(h, 265, 32),
        gname: str(h, 297, 32),
      },
      data,
    });
  }
  return members;
}

export function diffTar(a: Range, b: Range): TarMemberDifference[] | undefined {
  const ma = readTar(a);
  const mb = readTar(b);
  if (!ma || !mb) return undefined;
  const kb = new Map(mb.map((m) => [m.name, m]));
  const ka = new Map(ma.map((m) => [m.name, m]));
  const out: TarMemberDifference[] = [];
  for (const x of ma) {
    const y = kb.get(x.name);
    if (!y) {
      out.push({ name: x.name, change: 'only-in-stored' });
      continue;
    }
    const fields = (Object.keys(x.fields) as (keyof TarMember['fields'])[])
      .filter((f) => x.fields[f] !== y.fields[f])
      .map((f) => `${f}: ${x.fields[f]} -> ${y.fields[f]}`);
    const at = firstDifference(x.data, y.data);
    if (at === undefined && fields.length === 0) continue;
    out.push({
      name: x.name,
      change: at === undefined ? 'header' : 'content',
      ...(fields.length ? { fields } : {}),
      ...(at !== undefined ? { firstOffset: at, size: [x.data.length, y.data.length] as [number, number] } : {}),
    });
  }
  for (const y of mb) if (!ka.has(y.name)) out.push({ name: y.name, change: 'only-in-rebuilt' });
  return out;
}
