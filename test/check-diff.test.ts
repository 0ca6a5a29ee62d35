/**
 * The difference report on real trees made with the host's own tools (ar, tar, gzip,
 * python3): every kind of difference a NAR can hold, and the format-specific details.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeDifference } from '../src/check/diff-report.js';
import { diffTrees } from '../src/check/diff-tree.js';
import { tempDir } from './support/cli.js';

function tree(root: string, files: Record<string, string | { link: string } | { exec: string } | { dir: true }>): string {
  fs.mkdirSync(root, { recursive: true });
  for (const [rel, what] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (typeof what === 'string') fs.writeFileSync(p, what);
    else if ('link' in what) fs.symlinkSync(what.link, p);
    else if ('exec' in what) fs.writeFileSync(p, what.exec, { mode: 0o755 });
    else fs.mkdirSync(p);
  }
  return root;
}

const sh = (cwd: string, script: string) => execFileSync('/bin/sh', ['-ec', script], { cwd, env: { PATH: '/usr/bin:/bin', TZ: 'UTC' } });

describe('diffTrees', () => {
  it('finds files on one side, type, executable-bit and symlink changes, and nothing else', async () => {
    const dir = tempDir();
    const a = tree(path.join(dir, 'a'), {
      'same.txt': 'same\n',
      'gone.txt': 'x',
      'bin/tool': { exec: '#!/bin/sh\n' },
      'link': { link: 'same.txt' },
      'thing': 'a file\n',
    });
    const b = tree(path.join(dir, 'b'), {
      'same.txt': 'same\n',
      'new/deep.txt': 'y',
      'bin/tool': '#!/bin/sh\n',
      'link': { link: 'other.txt' },
      'thing': { dir: true },
    });
    const diffs = await diffTrees(a, b);
    expect(diffs).toEqual([
      { path: 'bin/tool', kind: 'executable', stored: true, rebuilt: false },
      { path: 'gone.txt', kind: 'only-in-stored', type: 'file' },
      { path: 'link', kind: 'symlink', stored: 'same.txt', rebuilt: 'other.txt' },
      { path: 'new', kind: 'only-in-rebuilt', type: 'directory' },
      { path: 'thing', kind: 'type', stored: 'file', rebuilt: 'directory' },
    ]);
    expect(diffs.flatMap(describeDifference)).toEqual([
      'bin/tool: executable bit set -> clear',
      'gone.txt: file only in the stored output',
      'link: symlink to same.txt -> other.txt',
      'new: directory only in the rebuild',
      'thing: was a file, rebuilt as a directory',
    ]);
    expect(await diffTrees(a, a)).toEqual([]);
  });

  it('names ar members whose header mtime differs, and members only on one side', async () => {
    const dir = tempDir();
    for (const side of ['a', 'b']) {
      const d = path.join(dir, side);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'one.txt'), 'one\n');
      fs.writeFileSync(path.join(d, 'a-member-with-a-long-name.txt'), side === 'a' ? 'stored\n' : 'rebuilt\n');
      if (side === 'b') fs.writeFileSync(path.join(d, 'extra.txt'), 'extra\n');
      sh(d, `touch -d @5 *.txt; touch -d @${side === 'a' ? 1000 : 2000} one.txt; ar rcU lib.a one.txt a-member-with-a-long-name.txt ${side === 'b' ? 'extra.txt' : ''}; rm *.txt`);
    }
    const [d] = await diffTrees(path.join(dir, 'a'), path.join(dir, 'b'));
    expect(d).toMatchObject({ path: 'lib.a', kind: 'content', format: 'ar' });
    expect(d.kind === 'content' && d.members).toEqual([
      { name: 'one.txt', change: 'header', fields: ['mtime'] },
      expect.objectContaining({ name: 'a-member-with-a-long-name.txt', change: 'content', firstOffset: 0, size: [7, 8] }),
      { name: 'extra.txt', change: 'only-in-rebuilt' },
    ]);
    expect(describeDifference(d)[1]).toBe(
      '  members: one.txt (header: mtime), a-member-with-a-long-name.txt (at +0x0), extra.txt (only in rebuilt)',
    );
  });

  it('reports a gzip header timestamp and a pyc whose code object differs', async () => {
    const dir = tempDir();
    for (const [side, stamp, value] of [['a', 1000, 1], ['b', 2000, 2]] as const) {
      const d = path.join(dir, side);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'data'), 'payload\n');
      sh(d, `touch -d @${stamp} data; gzip data`);
      fs.writeFileSync(path.join(d, 'm.py'), `x = ${value}\n`);
      sh(d, `python3 -c 'import py_compile; py_compile.compile("m.py", cfile="m.pyc", invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)'; rm m.py`);
    }
    const diffs = await diffTrees(path.join(dir, 'a'), path.join(dir, 'b'));
    expect(diffs.map((d) => [d.path, d.kind === 'content' && d.format])).toEqual([['data.gz', 'gzip'], ['m.pyc', 'pyc']]);
    expect(diffs.flatMap(describeDifference)).toEqual([
      expect.stringMatching(/^data\.gz: gzip, \d+ bytes, first difference at byte 4 \(0x4\)$/),
      '  gzip header: mtime: 1000 -> 2000',
      expect.stringMatching(/^m\.pyc: pyc, \d+ bytes, first difference at byte 8 \(0x8\)$/),
      expect.stringMatching(/^ {2}header fields: source-hash; code object differs at \+\d+ of the marshalled data$/),
    ]);
  });
});
