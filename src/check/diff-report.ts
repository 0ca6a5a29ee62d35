/**
 * Human-readable lines for the differences that diff-tree.ts finds, one entry per
 * file (indented detail lines under it). Used by the CLI and the plain logger.
 */
import type { MemberDifference } from './diff-ar.js';
import type { ElfDifference, SectionDifference } from './diff-elf.js';
import type { FileDifference } from './diff-tree.js';

const MAX_ITEMS = 12;

const hex = (n: number) => `0x${n.toString(16)}`;

function sizes([a, b]: [number, number]): string {
  return a === b ? `${a} bytes` : `${a} -> ${b} bytes`;
}

function list<T>(items: T[], show: (x: T) => string): string {
  const shown = items.slice(0, MAX_ITEMS).map(show).join(', ');
  return items.length > MAX_ITEMS ? `${shown}, ... (${items.length} in all)` : shown;
}

function section(s: SectionDifference): string {
  if (s.change === 'only-in-stored') return `${s.name} (only in stored)`;
  if (s.change === 'only-in-rebuilt') return `${s.name} (only in rebuilt)`;
  return `${s.name} (at +${hex(s.firstOffset!)})`;
}

function elfSummary(e: ElfDifference): string {
  const parts = e.sections.length ? [`sections ${list(e.sections, section)}`] : [];
  if (e.headers) parts.push('headers/padding outside sections');
  return parts.join('; ') || 'no section differs';
}

function member(m: MemberDifference): string {
  if (m.change === 'only-in-stored') return `${m.name} (only in stored)`;
  if (m.change === 'only-in-rebuilt') return `${m.name} (only in rebuilt)`;
  if (m.change === 'header') return `${m.name} (header: ${m.fields!.join(', ')})`;
  const what = m.elf ? elfSummary(m.elf) : `at +${hex(m.firstOffset!)}`;
  return `${m.name} (${what}${m.fields ? `; header: ${m.fields.join(', ')}` : ''})`;
}

/** One entry per file: a first line, then indented detail lines. */
export function describeDifference(d: FileDifference): string[] {
  switch (d.kind) {
    case 'only-in-stored':
      return [`${d.path}: ${d.type} only in the stored output`];
    case 'only-in-rebuilt':
      return [`${d.path}: ${d.type} only in the rebuild`];
    case 'type':
      return [`${d.path}: was a ${d.stored}, rebuilt as a ${d.rebuilt}`];
    case 'executable':
      return [`${d.path}: executable bit ${d.stored ? 'set' : 'clear'} -> ${d.rebuilt ? 'set' : 'clear'}`];
    case 'symlink':
      return [`${d.path}: symlink to ${d.stored} -> ${d.rebuilt}`];
    case 'content': {
      const head = `${d.path}: ${d.format}, ${sizes(d.size)}, first difference at byte ${d.firstOffset} (${hex(d.firstOffset)})`;
      switch (d.format) {
        case 'elf':
          return [head, `  ${elfSummary(d.elf!)}`];
        case 'ar':
          return [head, `  members: ${d.members!.length ? list(d.members!, member) : 'none differ (the archive layout does)'}`];
        case 'tar':
          return [
            head,
            ...d.tar!.slice(0, MAX_ITEMS).map((m) =>
              `  member ${m.name}: ${m.change === 'content' || m.change === 'header' ? [
                ...(m.fields ?? []),
                ...(m.firstOffset !== undefined ? [`data differs at +${m.firstOffset}`] : []),
              ].join('; ') : m.change.replace(/-/g, ' ')}`),
            ...(d.tar!.length > MAX_ITEMS ? [`  ... (${d.tar!.length} members in all)`] : []),
          ];
        case 'pyc': {
          const p = d.pyc!;
          const header = p.fields.filter((f) => f !== 'code');
          return [
            head,
            `  ${[
              ...(header.length ? [`header fields: ${header.join(', ')}`] : []),
              ...(p.codeOffset !== undefined ? [`code object differs at +${p.codeOffset} of the marshalled data`] : []),
            ].join('; ')}`,
          ];
        }
        case 'gzip':
          return [head, `  gzip ${d.gzip!.length ? `header: ${d.gzip!.join(', ')}` : 'stream differs'}`];
        case 'text':
          return [head, ...(d.diff ?? '').split('\n').map((l) => `  ${l}`)];
        default:
          return [head];
      }
    }
  }
}
