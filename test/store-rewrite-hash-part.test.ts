/**
 * rewriteHashPart (src/store/add-path.ts): an output assembled at its temporary path has
 * the temporary's hash part replaced by the final one everywhere, in files of any size
 * (an occurrence across the 1 MiB reads included) and in symlink targets, and nowhere
 * else. Files are scanned with reused buffers, so a small file scanned after a big one
 * must not be searched in what the big one left there.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rewriteHashPart } from '../src/store/add-path.js';
import { tempDir } from './support/cli.js';

const dir = tempDir('slime-rewrite-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const FROM = 'tmp0000000000000000000000000000a';
const TO = 'fin1111111111111111111111111111b';
const MIB = 1 << 20;

describe('rewriteHashPart', () => {
  it('replaces every occurrence in big and small files and in link targets, and changes nothing else', async () => {
    const bigRoot = path.join(dir, 'big');
    const root = path.join(dir, 'out');
    fs.mkdirSync(bigRoot);
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    // Occurrences at the start, across the first read's end, and at the very end.
    const big = Buffer.alloc(2 * MIB + 100, 'x');
    for (const at of [0, MIB - 10, 2 * MIB + 100 - FROM.length]) big.write(FROM, at, 'latin1');
    fs.writeFileSync(path.join(bigRoot, 'a-big'), big);
    fs.writeFileSync(path.join(root, 'b-small-without'), 'no hash here\n');
    fs.writeFileSync(path.join(root, 'c-small-with'), `${FROM}/bin and ${FROM}\n`, { mode: 0o444 });
    fs.writeFileSync(path.join(root, 'sub', 'script'), `#!${FROM}/bin/sh\n`);
    fs.symlinkSync(`../${FROM}-dep/lib`, path.join(root, 'link'));

    await rewriteHashPart(bigRoot, FROM, TO);
    // Scanned after the big file, into the buffer it filled.
    await rewriteHashPart(root, FROM, TO);

    const expected = Buffer.alloc(2 * MIB + 100, 'x');
    for (const at of [0, MIB - 10, 2 * MIB + 100 - TO.length]) expected.write(TO, at, 'latin1');
    expect(fs.readFileSync(path.join(bigRoot, 'a-big')).equals(expected)).toBe(true);
    expect(fs.readFileSync(path.join(root, 'b-small-without'), 'utf8')).toBe('no hash here\n');
    expect(fs.readFileSync(path.join(root, 'c-small-with'), 'utf8')).toBe(`${TO}/bin and ${TO}\n`);
    expect(fs.readFileSync(path.join(root, 'sub', 'script'), 'utf8')).toBe(`#!${TO}/bin/sh\n`);
    expect(fs.readlinkSync(path.join(root, 'link'))).toBe(`../${TO}-dep/lib`);
  });
});
