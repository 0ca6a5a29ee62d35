/**
 * What differs between a stored output and its rebuild: every file only on one side,
 * every change of type, executable bit or symlink target, and for each file whose
 * bytes differ its sizes, the first differing offset and what that means in the
 * file's format (ELF sections, ar members, tar members, pyc header fields or code,
 * a unified diff of text). A NAR records exactly these things (type, executable bit,
 * contents, symlink targets, names), so two outputs with different NAR hashes always
 * show at least one difference here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { diffAr, isAr } from './diff-ar.js';
import { diffElf, isElf } from './diff-elf.js';
import { diffPyc } from './diff-pyc.js';
import { diffTar, isTar } from './diff-tar.js';
import { looksLikeText, unifiedDiff } from './diff-text.js';
import { firstDifference, readAt, wholeFile, withFiles } from './ranges.js';
import type { EntryType, ContentFormat, FileDifference, ContentDifference } from '../run/differences.js';
export type { EntryType, ContentFormat, FileDifference, ContentDifference };

interface Entry {
  type: EntryType;
  executable: boolean;
  target?: string;
}

function entryOf(p: string): Entry | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return { type: 'symlink', executable: false, target: fs.readlinkSync(p) };
  if (st.isDirectory()) return { type: 'directory', executable: false };
  return { type: 'file', executable: (st.mode & 0o100) !== 0 };
}

/** Differences between the trees (or single files) at `stored` and `rebuilt`, in path order. */
export async function diffTrees(stored: string, rebuilt: string): Promise<FileDifference[]> {
  const out: FileDifference[] = [];
  await compare(stored, rebuilt, '', out);
  return out;
}

async function compare(a: string, b: string, rel: string, out: FileDifference[]): Promise<void> {
  const ea = entryOf(a);
  const eb = entryOf(b);
  const name = rel || '$out';
  if (!ea || !eb) {
    if (ea) out.push({ path: name, kind: 'only-in-stored', type: ea.type });
    if (eb) out.push({ path: name, kind: 'only-in-rebuilt', type: eb.type });
    return;
  }
  if (ea.type !== eb.type) {
    out.push({ path: name, kind: 'type', stored: ea.type, rebuilt: eb.type });
    return;
  }
  if (ea.type === 'symlink') {
    if (ea.target !== eb.target) out.push({ path: name, kind: 'symlink', stored: ea.target!, rebuilt: eb.target! });
    return;
  }
  if (ea.type === 'directory') {
    const names = [...new Set([...fs.readdirSync(a), ...fs.readdirSync(b)])].sort();
    for (const n of names) await compare(path.join(a, n), path.join(b, n), rel ? `${rel}/${n}` : n, out);
    return;
  }
  if (ea.executable !== eb.executable) out.push({ path: name, kind: 'executable', stored: ea.executable, rebuilt: eb.executable });
  const content = await diffFile(a, b, name);
  if (content) out.push(content);
}

/** How two regular files differ, or undefined when their bytes are equal. */
export async function diffFile(a: string, b: string, name: string): Promise<ContentDifference | undefined> {
  const found = withFiles(a, b, (fa, fb) => {
    const ra = wholeFile(fa);
    const rb = wholeFile(fb);
    const firstOffset = firstDifference(ra, rb);
    if (firstOffset === undefined) return undefined;
    const head = readAt(ra, 0, 64 * 1024);
    const headB = readAt(rb, 0, 64 * 1024);
    const base: ContentDifference = { path: name, kind: 'content', format: 'binary', size: [ra.length, rb.length], firstOffset };
    if (isElf(head) && isElf(headB)) {
      const elf = diffElf(ra, rb);
      if (elf) return { ...base, format: 'elf' as const, elf };
    }
    if (isAr(head) && isAr(headB)) {
      const members = diffAr(ra, rb);
      if (members) return { ...base, format: 'ar' as const, members };
    }
    if (name.endsWith('.pyc')) {
      const pyc = diffPyc(ra, rb);
      if (pyc) return { ...base, format: 'pyc' as const, pyc };
    }
    if (isTar(head) && isTar(headB)) {
      const tar = diffTar(ra, rb);
      if (tar) return { ...base, format: 'tar' as const, tar };
    }
    if (head[0] === 0x1f && head[1] === 0x8b && headB[0] === 0x1f && headB[1] === 0x8b) {
      const gzip: string[] = [];
      if (!head.subarray(4, 8).equals(headB.subarray(4, 8))) gzip.push(`mtime: ${head.readUInt32LE(4)} -> ${headB.readUInt32LE(4)}`);
      if (head[9] !== headB[9]) gzip.push(`os: ${head[9]} -> ${headB[9]}`);
      return { ...base, format: 'gzip' as const, gzip };
    }
    if (looksLikeText(head) && looksLikeText(headB)) return { ...base, format: 'text' as const };
    return base;
  });
  if (found?.format === 'text') found.diff = await unifiedDiff(a, b, [`stored/${name}`, `rebuilt/${name}`]);
  return found;
}
