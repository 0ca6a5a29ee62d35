/**
 * A short unified diff of two text files, from the host's `diff -u` (diffutils, in
 * every Debian), run through execa: it streams files of any size. The output is cut
 * to `maxLines` (and diff is stopped once it has written MAX_BYTES).
 */
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

export async function unifiedDiff(a: string, b: string, labels: [string, string], maxLines = TEXT_DIFF_LINES): Promise<string> {
  // execa is ESM only and costs a noticeable load: loaded when a check first diffs.
  const { execa } = await import('execa');
  // Exit 1 (the files differ) is the point; past MAX_BYTES execa stops diff and keeps what came.
  const r = await execa('diff', ['-u', '--label', labels[0], '--label', labels[1], a, b], {
    reject: false,
    stdin: 'ignore',
    stderr: 'ignore',
    encoding: 'buffer',
    maxBuffer: MAX_BYTES,
    stripFinalNewline: false,
  });
  if (r.exitCode === undefined && !r.isMaxBuffer) throw new Error(`cannot run diff -u (diffutils): ${r.originalMessage ?? r.shortMessage}`);
  const lines = Buffer.from(r.stdout).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const more = lines.length > maxLines || r.isMaxBuffer;
  return [...lines.slice(0, maxLines), ...(more ? [`... (diff cut at ${maxLines} lines)`] : [])].join('\n');
}
