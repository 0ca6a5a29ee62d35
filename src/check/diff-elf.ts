/**
 * Which sections of two ELF files differ.
 *
 * The part of the ELF format read here (System V gABI), for 32- and 64-bit, either
 * byte order:
 *
 *   e_ident[16]     "\x7fELF", EI_CLASS (1: 32-bit, 2: 64-bit), EI_DATA (1: LE, 2: BE), ...
 *   e_shoff         section header table offset   (ELF64: u64 at 0x28; ELF32: u32 at 0x20)
 *   e_shentsize     section header size           (ELF64: u16 at 0x3a; ELF32: u16 at 0x2e)
 *   e_shnum         number of section headers     (ELF64: u16 at 0x3c; ELF32: u16 at 0x30)
 *   e_shstrndx      section holding section names (ELF64: u16 at 0x3e; ELF32: u16 at 0x32)
 *   section header  sh_name u32 @0, sh_type u32 @4,
 *                   sh_offset (ELF64: u64 @0x18; ELF32: u32 @0x10),
 *                   sh_size   (ELF64: u64 @0x20; ELF32: u32 @0x14)
 *
 * e_shnum == 0 with a table present means the count is in section 0's sh_size, and
 * e_shstrndx == 0xffff means the index is in section 0's sh_link (u32 @0x28 / @0x18).
 * SHT_NOBITS (8) sections (.bss) occupy no bytes in the file. Sections are matched by
 * name and, for repeated names (a relocatable's many `.text.*`, `.rela.*`), by their
 * order among sections of that name. Bytes outside every section (ELF header, program
 * headers, the section header table, padding) are reported as "headers".
 */
import { firstDifference, readAt, sub, type Range } from './ranges.js';
import type { SectionDifference, ElfDifference } from '../run/differences.js';
export type { SectionDifference, ElfDifference };

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
}

const SHT_NOBITS = 8;

export function isElf(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x7f && head.toString('latin1', 1, 4) === 'ELF';
}

/** The section table, or undefined when the bytes are not a well-formed ELF file. */
export function readSections(r: Range): ElfSection[] | undefined {
  const ident = readAt(r, 0, 64);
  if (!isElf(ident) || ident.length < 52) return undefined;
  const is64 = ident[4] === 2;
  const le = ident[5] !== 2;
  const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const word = (b: Buffer, o: number) => (is64 ? Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : u32(b, o));
  if (is64 && ident.length < 64) return undefined;
  const shoff = word(ident, is64 ? 0x28 : 0x20);
  const shentsize = u16(ident, is64 ? 0x3a : 0x2e);
  let shnum = u16(ident, is64 ? 0x3c : 0x30);
  let shstrndx = u16(ident, is64 ? 0x3e : 0x32);
  if (shoff === 0 || shentsize < (is64 ? 0x40 : 0x28)) return [];
  const header = (i: number) => readAt(r, shoff + i * shentsize, shentsize);
  if (shnum === 0 || shstrndx === 0xffff) {
    const first = header(0);
    if (first.length < shentsize) return undefined;
    if (shnum === 0) shnum = word(first, is64 ? 0x20 : 0x14);
    if (shstrndx === 0xffff) shstrndx = u32(first, is64 ? 0x28 : 0x18);
  }
  if (shoff + shnum * shentsize > r.length || shstrndx >= shnum) return undefined;
  const raw = Array.from({ length: shnum }, (_, i) => {
    const h = header(i);
    return {
      nameOff: u32(h, 0),
      type: u32(h, 4),
      offset: word(h, is64 ? 0x18 : 0x10),
      size: word(h, is64 ? 0x20 : 0x14),
    };
  });
  const strtab = raw[shstrndx];
  const names = readAt(r, strtab.offset, Math.min(strtab.size, 1 << 24));
  return raw.map((s, i) => {
    const end = names.indexOf(0, s.nameOff);
    const name = i === 0 ? '' : names.toString('latin1', s.nameOff, end === -1 ? names.length : end);
    return { name: name || `[${i}]`, type: s.type, offset: s.offset, size: s.type === SHT_NOBITS ? 0 : s.size };
  });
}

/** Keys sections by name, with `#N` for the N-th repeat of a name. */
function keyed(sections: ElfSection[]): Map<string, ElfSection> {
  const seen = new Map<string, number>();
  const out = new Map<string, ElfSection>();
  for (const s of sections) {
    if (s.name === '[0]') continue;
    const n = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, n);
    out.set(n === 1 ? s.name : `${s.name}#${n}`, s);
  }
  return out;
}

/** The differing sections of two ELF files, or undefined when either is not ELF. */
export function diffElf(a: Range, b: Range): ElfDifference | undefined {
  const sa = readSections(a);
  const sb = readSections(b);
  if (!sa || !sb) return undefined;
  const ka = keyed(sa);
  const kb = keyed(sb);
  const sections: SectionDifference[] = [];
  for (const [name, x] of ka) {
    const y = kb.get(name);
    if (!y) {
      sections.push({ name, change: 'only-in-stored' });
      continue;
    }
    const at = firstDifference(sub(a, x.offset, x.size), sub(b, y.offset, y.size));
    if (at !== undefined) sections.push({ name, change: 'content', firstOffset: at, size: [x.size, y.size] });
  }
  for (const name of kb.keys()) if (!ka.has(name)) sections.push({ name, change: 'only-in-rebuilt' });
  return { sections, headers: outsideDiffers(a, b, sa, sb) };
}

/** Compares the bytes that belong to no section (same layout assumed; a different layout counts as a difference). */
function outsideDiffers(a: Range, b: Range, sa: ElfSection[], sb: ElfSection[]): boolean {
  const gaps = (r: Range, ss: ElfSection[]) => {
    const spans = ss.filter((s) => s.size > 0).map((s) => [s.offset, s.offset + s.size] as const).sort((x, y) => x[0] - y[0]);
    const out: [number, number][] = [];
    let at = 0;
    for (const [s, e] of spans) {
      if (s > at) out.push([at, s]);
      at = Math.max(at, e);
    }
    if (at < r.length) out.push([at, r.length]);
    return out;
  };
  const ga = gaps(a, sa);
  const gb = gaps(b, sb);
  if (ga.length !== gb.length) return true;
  return ga.some(([s, e], i) => {
    const [t, f] = gb[i];
    return firstDifference(sub(a, s, e - s), sub(b, t, f - t)) !== undefined;
  });
}
