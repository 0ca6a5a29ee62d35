/**
 * `slime check --against URL`: the local NAR hashes against a real binary cache that
 * nix 2.8 wrote (`nix copy --to file://...` of the same store path), read over file://
 * and over HTTP from a server on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { slime, storePaths, tempDir, writeModule } from './support/cli.js';

/** Registers a slime store path in a nix database over the same store directory, then copies it into a file:// cache with nix. */
function pushWithNix(store: string, storePath: string, cacheDir: string, stateDir: string): void {
  const db = new Store(store);
  const info = db.queryInfo(storePath)!;
  db.close();
  const hex = Buffer.from(info.narHash.slice('sha256-'.length), 'base64').toString('hex');
  const env = { ...process.env, NIX_STORE_DIR: store, NIX_STATE_DIR: stateDir };
  execFileSync('nix-store', ['--register-validity', '--hash-given'], { input: `${storePath}\n${hex}\n${info.narSize}\n\n0\n`, env, stdio: ['pipe', 'ignore', 'ignore'] });
  execFileSync('nix', ['--extra-experimental-features', 'nix-command', 'copy', '--to', `file://${cacheDir}`, storePath], { env, stdio: 'ignore' });
}

describe('slime check --against', () => {
  it('compares with the NarHash of a nix-made cache, over file:// and http://', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `
export const rand = derivation({ name: 'random-number', builder: '/bin/sh', args: ['-ec', 'od -An -N8 -tu8 /dev/urandom > $out'], tools: ['od'] });
export const other = derivation({ name: 'not-pushed', builder: '/bin/sh', args: ['-ec', 'echo x > $out'] });
export const targets = [target('one', 'pushed', [rand]), target('two', 'one pushed, one not', [rand, other])];
`);
    const store = path.join(dir, 'store');
    const cache = path.join(dir, 'cache');
    expect((await slime(['realize', 'two', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const out = path.join(store, storePaths(store).find((p) => p.endsWith('-random-number'))!);
    pushWithNix(store, out, cache, path.join(dir, 'nix-state'));

    const same = await slime(['check', 'two', '-f', file, '--store', store, '--against', `file://${cache}`], { cwd: dir });
    expect(same.stdout).toMatch(/random-number: equal to the cache\n {2}out \S+: local (sha256:\w{52}), cache \1\n/);
    expect(same.stdout).toMatch(/not-pushed: not in the cache\n {2}out \S+: local sha256:\w{52}, no narinfo in the cache/);
    expect(same.code).toBe(0);

    // Another build of the same store path (a second machine, in effect): the bytes differ.
    expect((await slime(['gc', '--store', store], { cwd: dir })).code).toBe(0);
    expect((await slime(['realize', 'one', '-f', file, '--store', store, '--no-link'], { cwd: dir })).code).toBe(0);
    const server = http.createServer((req, res) => {
      const p = path.join(cache, path.normalize(decodeURIComponent(req.url ?? '/')));
      if (!p.startsWith(cache) || !fs.existsSync(p) || fs.statSync(p).isDirectory()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/x-nix-narinfo' }).end(fs.readFileSync(p));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const differs = await slime(['check', 'one', '-f', file, '--store', store, '--against', url, '--json'], { cwd: dir });
      expect(differs.code).toBe(104);
      const [record] = JSON.parse(differs.stdout);
      expect(record).toMatchObject({ name: 'random-number', verdict: 'cache-differs', against: url });
      expect(record.outputs.out.rebuilt).toEqual([expect.stringMatching(/^sha256:\w{52}$/)]);
    } finally {
      server.close();
    }
    const targets = await slime(['targets', '-f', file, '--store', store], { cwd: dir });
    expect(targets.stdout).toMatch(/^one\s+realized\s+checked 1\/1: 0 equal, 1 DIFFER\s+pushed$/m);
  }, 240_000);

  it('says when the cache has none of the outputs, and rejects a URL it cannot use', async () => {
    const dir = tempDir();
    const file = writeModule(dir, 'm.ts', `
export const x = derivation({ name: 'x', builder: '/bin/sh', args: ['-ec', 'echo x > $out'] });
export const targets = [target('x', 'x', [x])];
`);
    const store = path.join(dir, 'store');
    // A directory that is not a cache, and a cache of another store: refused before anything is built.
    fs.mkdirSync(path.join(dir, 'plain'));
    const plain = await slime(['check', 'x', '-f', file, '--store', store, '--against', `file://${dir}/plain`], { cwd: dir });
    expect(plain.stderr).toBe(`error: file://${dir}/plain has no nix-cache-info: it is not a binary cache; check the --against URL\n`);
    expect(plain.code).toBe(1);
    fs.mkdirSync(path.join(dir, 'other'));
    fs.writeFileSync(path.join(dir, 'other', 'nix-cache-info'), 'StoreDir: /nix/store\n');
    const other = await slime(['check', 'x', '-f', file, '--store', store, '--against', `file://${dir}/other`], { cwd: dir });
    expect(other.stderr).toBe(`error: the cache at file://${dir}/other holds paths of the store /nix/store, not ${store}: none of its narinfos can be this store's outputs; check another cache\n`);
    expect(other.code).toBe(1);
    expect(fs.readdirSync(store).filter((e) => e.endsWith('-x'))).toEqual([]);

    fs.mkdirSync(path.join(dir, 'empty'));
    fs.writeFileSync(path.join(dir, 'empty', 'nix-cache-info'), `StoreDir: ${store}\n`);
    const none = await slime(['check', 'x', '-f', file, '--store', store, '--against', `file://${dir}/empty`], { cwd: dir });
    expect(none.stderr).toContain(`error: the cache at file://${dir}/empty has none of these outputs, so nothing was compared`);
    expect(none.code).toBe(1);
    const bad = await slime(['check', 'x', '-f', file, '--store', store, '--against', 's3://bucket'], { cwd: dir });
    expect(bad.stderr).toBe('error: --against s3://bucket: not a file:// or http(s):// URL; give a binary cache URL such as file:///srv/cache\n');
    expect(bad.code).toBe(2);
  }, 120_000);
});
