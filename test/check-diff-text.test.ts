/**
 * `slime check`'s text diff (src/check/diff-text.ts): the host's `diff -u` run through
 * execa, on real files: a short diff whole, a long one cut at its line limit and a huge
 * one at its byte limit (diff stopped, not read to the end), and a missing `diff` named.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TEXT_DIFF_LINES, unifiedDiff } from '../src/check/diff-text.js';
import { tempDir } from './support/cli.js';

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

function pair(a: string, b: string): [string, string] {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'a'), a);
  fs.writeFileSync(path.join(dir, 'b'), b);
  return [path.join(dir, 'a'), path.join(dir, 'b')];
}

describe('unifiedDiff', () => {
  it('gives the whole unified diff of two short files, labelled', async () => {
    const [a, b] = pair('same\nold\nend\n', 'same\nnew\nend\n');
    expect(await unifiedDiff(a, b, ['stored/f', 'rebuilt/f'])).toBe('--- stored/f\n+++ rebuilt/f\n@@ -1,3 +1,3 @@\n same\n-old\n+new\n end');
  });

  it('gives nothing for equal files', async () => {
    const [a, b] = pair('x\n', 'x\n');
    expect(await unifiedDiff(a, b, ['a', 'b'])).toBe('');
  });

  it('cuts a long diff at its line limit and says so', async () => {
    const lines = (tag: string) => Array.from({ length: 100 }, (_, i) => `${tag} ${i}\n`).join('');
    const [a, b] = pair(lines('old'), lines('new'));
    const out = (await unifiedDiff(a, b, ['a', 'b'])).split('\n');
    expect(out).toHaveLength(TEXT_DIFF_LINES + 1);
    expect(out.at(-1)).toBe(`... (diff cut at ${TEXT_DIFF_LINES} lines)`);
  });

  it('stops diff once it has written 64 KiB of a huge diff, and still cuts at the line limit', async () => {
    // Two 8 MiB files that differ on every line: the whole diff would be 16 MiB.
    const big = (tag: string) => Array.from({ length: 256 * 1024 }, (_, i) => `${tag} line ${i} ${'x'.repeat(16)}\n`).join('');
    const [a, b] = pair(big('a'), big('b'));
    const out = (await unifiedDiff(a, b, ['a', 'b'], 5)).split('\n');
    expect(out).toEqual(['--- a', '+++ b', '@@ -1,262144 +1,262144 @@', '-a line 0 xxxxxxxxxxxxxxxx', '-a line 1 xxxxxxxxxxxxxxxx', '... (diff cut at 5 lines)']);
  });

  it('says in one line that diff cannot run when it is not installed', async () => {
    const [a, b] = pair('1\n', '2\n');
    process.env.PATH = tempDir();
    await expect(unifiedDiff(a, b, ['a', 'b'])).rejects.toThrow(/^cannot run diff -u \(diffutils\): .*ENOENT/);
  });
});
