/**
 * The restore that substitution uses (`canonical`): the tree comes out in Nix's
 * canonical form as it is written (mode 0444/0555, mtime 1, the top directory kept
 * writable for the move into the store), with the same NAR as the original, whatever
 * mix of small files (written in parallel), large ones (streamed), executables,
 * symlinks and deep directories it holds; a failure midway leaves nothing.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { narDump } from '../src/nar/dump.js';
import { hashPath } from '../src/nar/hash.js';
import { narRestore } from '../src/nar/restore.js';

let work: string;
let tree: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-nar-canonical-'));
  tree = path.join(work, 'tree');
  fs.mkdirSync(path.join(tree, 'lib', 'deep', 'er'), { recursive: true });
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(tree, 'lib', `small-${String(i).padStart(3, '0')}.py`), `x = ${i}\n`.repeat(i));
  // Larger than the restore's whole-file limit (1 MiB): written as it streams.
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  fs.writeFileSync(path.join(tree, 'lib', 'big.a'), big);
  fs.writeFileSync(path.join(tree, 'run'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.writeFileSync(path.join(tree, 'lib', 'deep', 'er', 'empty'), '');
  fs.mkdirSync(path.join(tree, 'share'));
  fs.symlinkSync('../lib/big.a', path.join(tree, 'share', 'link'));
});
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', work]);
  fs.rmSync(work, { recursive: true, force: true });
});

function walk(p: string, out: string[] = []): string[] {
  out.push(p);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e), out);
  return out;
}

describe('canonical NAR restore', () => {
  it('writes the same NAR, every entry canonical (0444/0555, mtime 1), the top directory still writable', async () => {
    const dest = path.join(work, 'restored');
    await narRestore(narDump(tree), dest, { canonical: true });
    expect((await hashPath(dest)).narHash.equals((await hashPath(tree)).narHash)).toBe(true);
    for (const p of walk(dest)) {
      const st = fs.lstatSync(p);
      expect(st.mtimeMs, p).toBe(1000);
      if (st.isSymbolicLink()) continue;
      const mode = st.mode & 0o777;
      if (p === dest) expect(mode & 0o200).toBe(0o200);
      else if (st.isDirectory() || st.mode & 0o100) expect(mode, p).toBe(0o555);
      else expect(mode, p).toBe(0o444);
    }
    expect(fs.readFileSync(path.join(dest, 'lib', 'big.a')).equals(fs.readFileSync(path.join(tree, 'lib', 'big.a')))).toBe(true);
  });

  it('makes the canonical modes whatever the umask (077 here)', () => {
    const dest = path.join(work, 'umask-077');
    const script = `import { narRestore } from ${JSON.stringify(path.resolve('dist/src/nar/restore.js'))};
import { narDump } from ${JSON.stringify(path.resolve('dist/src/nar/dump.js'))};
await narRestore(narDump(${JSON.stringify(tree)}), ${JSON.stringify(dest)}, { canonical: true });`;
    const r = spawnSync('sh', ['-c', `umask 077 && exec ${JSON.stringify(process.execPath)} --input-type=module -e "$0"`, script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.statSync(path.join(dest, 'run')).mode & 0o777).toBe(0o555);
    expect(fs.statSync(path.join(dest, 'lib', 'big.a')).mode & 0o777).toBe(0o444);
    expect(fs.statSync(path.join(dest, 'lib', 'small-001.py')).mode & 0o777).toBe(0o444);
  });

  it('leaves nothing, read-only directories included, when the NAR breaks off midway', async () => {
    const nar: Buffer[] = [];
    for await (const c of narDump(tree)) nar.push(c as Buffer);
    const whole = Buffer.concat(nar);
    const parent = path.join(work, 'cut');
    fs.mkdirSync(parent);
    // Cut inside the last entries, after directories have been finished (made read-only).
    await expect(narRestore(Readable.from([whole.subarray(0, whole.length - 40)]), path.join(parent, 'out'), { canonical: true })).rejects.toThrow(
      /truncated/,
    );
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});
