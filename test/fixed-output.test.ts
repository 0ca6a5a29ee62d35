import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasNix, isolatedNixStore } from './fixtures/nar-nix.js';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

function fetchModule(dir: string, sha256: string, mirrors: string[]): string {
  return writeModule(dir, 'fetch.ts', `
export const tarball = fetchFile({ name: 'payload.tgz', sha256: ${JSON.stringify(sha256)},
  mirrors: ${JSON.stringify(mirrors.map((url) => ({ url })))} });
export const user = derivation({ name: 'user', builder: '/bin/sh', tools: ['cat'], args: ['-c', 'cat $src > $out'], env: { src: tarball } });
export const targets = [target('fetch', 'fetches then uses it', [user])];`);
}

describe('fixed-output derivations', () => {
  it('fetch from the first mirror that works, and the output path depends only on name and hash', async () => {
    const dir = tempDir();
    const payload = path.join(dir, 'payload.bin');
    fs.writeFileSync(payload, 'the real bytes\n');
    const sha = createHash('sha256').update('the real bytes\n').digest('hex');
    const file = fetchModule(dir, sha, ['http://nonexistent.invalid/payload.tgz', `file://${payload}`]);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'fetch', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(r.stdout.trim(), 'utf8')).toBe('the real bytes\n');
    const added = await slime(['store', 'add-file', payload, '--name', 'payload.tgz', '--store', store]);
    const fetched = storePaths(store).find((p) => p.endsWith('-payload.tgz'));
    expect(added.stdout.trim()).toBe(path.join(store, fetched!));
  });

  it('a hash mismatch names both hashes, exits 102 and leaves nothing in the store', async () => {
    const dir = tempDir();
    const payload = path.join(dir, 'payload.bin');
    fs.writeFileSync(payload, 'tampered bytes\n');
    const wanted = createHash('sha256').update('what we pinned\n').digest();
    const file = fetchModule(dir, wanted.toString('hex'), [`file://${payload}`]);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'fetch', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(102);
    expect(r.stderr).toContain(`sha256-${wanted.toString('base64')}`);
    expect(r.stderr).toContain(`sha256-${createHash('sha256').update('tampered bytes\n').digest('base64')}`);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([]);
    expect(fs.readdirSync(path.join(store, '.slime/tmp'))).toEqual([]);
  });

  it('a builder-made fixed-output derivation with the wrong hash fails with 102', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'fod.ts', `
export const v = derivation({ name: 'vendored', builder: '/bin/sh', tools: ['mkdir'], args: ['-c', 'mkdir $out; echo one > $out/a'],
  outputHash: { hash: '${'0'.repeat(52)}', mode: 'recursive' } });
export const targets = [target('v', 'wrong pin', [v])];`);
    const store = path.join(dir, 'store');
    const r = await slime(['realize', 'v', '-f', file, '--store', store], { cwd: dir });
    expect(r.code).toBe(102);
    expect(r.stderr).toMatch(/hash mismatch.*expected sha256-A{43}=, got sha256-/);
    expect(storePaths(store).filter((p) => !p.endsWith('.drv'))).toEqual([]);
  });

  it.skipIf(!hasNix)('slime store add-file gives the path of nix-store --add-fixed sha256', async () => {
    const nix = isolatedNixStore();
    const file = path.join(nix.root, 'Ünïcode file.txt');
    fs.writeFileSync(file, Buffer.from([0, 1, 2, 255, 10]));
    const named = path.join(nix.root, 'plain.txt');
    fs.copyFileSync(file, named);
    const ours = await slime(['store', 'add-file', named, '--store', nix.storeDir]);
    expect(ours.code).toBe(0);
    const theirs = nix.text('nix-store', ['--print-fixed-path', 'sha256', nix.text('nix-hash', ['--type', 'sha256', '--flat', '--base32', named]), 'plain.txt']);
    expect(ours.stdout.trim()).toBe(theirs);
    nix.cleanup();
  });

  it('add-file rejects a missing file and a directory with a clear error', async () => {
    const dir = tempDir();
    const missing = await slime(['store', 'add-file', path.join(dir, 'nope'), '--store', path.join(dir, 'store')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    const isDir = await slime(['store', 'add-file', dir, '--store', path.join(dir, 'store')]);
    expect(isDir.code).toBe(1);
    expect(isDir.stderr).toContain('not a regular file');
  });
});
