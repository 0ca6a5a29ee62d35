/**
 * A short unified diff of two text files, from the host's `diff -u` (diffutils, in
 * every Debian): it streams files of any size. The output is cut to `maxLines`.
 */
import { spawn } from 'node:child_process';

export const TEXT_DIFF_LINES = 40;
const MAX_BYTES = 64 * 1024;

/** Looks like text: no NUL byte and valid UTF-8 in the bytes given (a file's head). */
export function looksLikeText(head: Buffer): boolean {
  if (head.includes(0)) return false;
  // A multibyte character cut at the end of the head is not an error.
  const whole = head.length > 3 ? head.subarray(0, lastBoundary(head)) : head;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(whole);
    return true;
  } catch {
    return false;
  }
}

function lastBoundary(b: Buffer): number {
  let i = b.length;
  for (let k = 0; k < 3 && i > 0 && (b[i - 1] & 0xc0) === 0x80; k++) i--;
  if (i > 0 && b[i - 1] >= 0xc0) i--;
  return i === 0 ? b.length : i;
}

export function unifiedDiff(a: string, b: string, labels: [string, string], maxLines = TEXT_DIFF_LINES): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('diff', ['-u', '--label', labels[0], '--label', labels[1], a, b], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let cut = false;
    child.stdout.on('data', (c: Buffer) => {
      if (bytes < MAX_BYTES) chunks.push(c);
      else cut = true;
      bytes += c.length;
    });
    child.on('error', (e) => reject(new Error(`cannot run diff -u (diffutils): ${e.message}`)));
    child.on('close', () => {
      const lines = Buffer.concat(chunks).toString('utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      const more = lines.length > maxLines || cut;
      resolve([...lines.slice(0, maxLines), ...(more ? [`... (diff cut at ${maxLines} lines)`] : [])].join('\n'));
    });
  });
}
