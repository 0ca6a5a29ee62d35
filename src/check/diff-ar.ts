/**
 * Which members of two `ar` archives (static libraries) differ.
 *
 * The format (System V / GNU ar, as binutils writes it):
 *
 *   archive  = "!<arch>\n" member*
 *   member   = header(60) data padding
 *   header   = name[16] mtime[12] uid[6] gid[6] mode[8] size[10] "`\n"   (ASCII, space-padded)
 *   padding  = "\n" when size is odd, so members start at even offsets
 *   name     = "/"           the symbol table
 *            | "//"          the long-name table: names of more than 15 bytes, each ended by "/\n"
 *            | "/" DIGITS    offset of the name in the long-name table
 *            | NAME "/"      a short name
 *
 * BSD-style `#1/LEN` names (the name is the first LEN bytes of the data) are read
 * too. Members are matched by name and, for repeated names, by their order among
 * members of that name. Members that are ELF objects get their differing sections.
 */
import { diffElf, isElf } from './diff-elf.js';
import { firstDifference, readAt, sub, type Range } from './ranges.js';
import type { MemberDifference } from '../run/differences.js';
export type { MemberDifference };

const MAGIC = '!<arch>\n';

export interface ArMember {
  name: string;
  mtime: string;
  uid: string;
  gid: string;
  mode: string;
  data: Range;
}

export function isAr(head: Buffer): boolean {
  return head.length >= 8 && head.toString('latin1', 0, 8) === MAGIC;
}

export function readMembers(r: Range): ArMember[] | undefined {
  if (!isAr(readAt(r, 0, 8))) return undefined;
  const members: ArMember[] = [];
  let longNames: Buffer | undefined;
  let at = 8;
  while (at + 60 <= r.length) {
    const h = readAt(r, at, 60);
    if (h.toString('latin1', 58, 60) !== '`\n') return undefined;
    const field = (s: number, n: number) => h.toString('latin1', s, s + n).trimEnd();
    const size = Number(field(48, 10));
    if (!Number.isFinite(size) || at + 60 + size > r.length) return undefined;
    let name = field(0, 16);
    let data = sub(r, at + 60, size);
    if (name === '//') {
      longNames = readAt(data, 0, size);
    } else if (/^\/\d+$/.test(name) && longNames) {
      const off = Number(name.slice(1));
      const end = longNames.indexOf('/\n', off, 'latin1');
      name = longNames.toString('latin1', off, end === -1 ? longNames.length : end);
    } else if (/^#1\/\d+$/.test(name)) {
      const len = Number(name.slice(3));
      name = readAt(data, 0, len).toString('latin1').replace(/\0+$/, '');
      data = sub(data, len, size - len);
    } else if (name !== '/' && name.endsWith('/')) {
      name = name.slice(0, -1);
    }
    if (name !== '//') {
      members.push({ name: name === '/' ? '/ (symbol table)' : name, mtime: field(16, 12), uid: field(28, 6), gid: field(34, 6), mode: field(40, 8), data });
    }
    at += 60 + size + (size % 2);
  }
  return members;
}

function keyed(members: ArMember[]): Map<string, ArMember> {
  const seen = new Map<string, number>();
  const out = new Map<string, ArMember>();
  for (const m of members) {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    out.set(n === 1 ? m.name : `${m.name}#${n}`, m);
  }
  return out;
}

/** The differing members, or undefined when either file is not an ar archive. */
export function diffAr(a: Range, b: Range): MemberDifference[] | undefined {
  const ma = readMembers(a);
  const mb = readMembers(b);
  if (!ma || !mb) return undefined;
  const ka = keyed(ma);
  const kb = keyed(mb);
  const out: MemberDifference[] = [];
  for (const [name, x] of ka) {
    const y = kb.get(name);
    if (!y) {
      out.push({ name, change: 'only-in-stored' });
      continue;
    }
    const fields = (['mtime', 'uid', 'gid', 'mode'] as const).filter((f) => x[f] !== y[f]);
    const at = firstDifference(x.data, y.data);
    if (at === undefined) {
      if (fields.length) out.push({ name, change: 'header', fields });
      continue;
    }
    const elf = isElf(readAt(x.data, 0, 4)) ? diffElf(x.data, y.data) : undefined;
    out.push({
      name,
      change: 'content',
      ...(fields.length ? { fields } : {}),
      firstOffset: at,
      size: [x.data.length, y.data.length],
      ...(elf ? { elf } : {}),
    });
  }
  for (const name of kb.keys()) if (!ka.has(name)) out.push({ name, change: 'only-in-rebuilt' });
  return out;
}
