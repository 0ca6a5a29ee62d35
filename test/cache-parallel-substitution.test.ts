/**
 * Substitution at scale: more derivations substituted ahead than build slots (`-j 1`)
 * and than SUBSTITUTION_JOBS, still each path registered only after its references;
 * and a NAR big enough to be restored on the restore thread (WORKER_NAR_SIZE) that
 * breaks off midway: a one-line warning naming the cache, nothing registered from it,
 * no temporary left, and the build goes on by building. And a big zstd NAR of random
 * bytes, whose decompressed buffers the thread gives back to be filled again, comes out
 * byte for byte; and three big NARs on the one restore thread, one failing its NarHash.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fingerprint, parseNarInfo, serializeNarInfo } from '../src/cache/narinfo.js';
import { WORKER_NAR_SIZE } from '../src/cache/pull.js';
import { parseSecretKey, signFingerprint } from '../src/cache/signing.js';
import { toNixBase32 } from '../src/hash/base32.js';
import { SUBSTITUTION_JOBS } from '../src/scheduler/scheduler.js';
import { slime, tempDir, writeModule } from './support/cli.js';
import { count, events, removeStore } from './support/cache.js';

const WIDTH = SUBSTITUTION_JOBS + 4;

/** `slime realize TARGET` of `module` into `store`, substituting from the file:// cache at `root` (json log). */
function realizeFrom(dir: string, target: string, module: string, store: string, root: string, pub: string, extra: string[] = []) {
  const args = ['realize', target, '-f', module, '--store', store, '--no-link', '--no-sandbox', ...extra, '--log-format', 'json'];
  return slime([...args, '--substituters', `file://${root}`, '--trusted-public-keys', pub], { cwd: dir });
}

/** `out` hashed again from disk (`slime hash path`) is `narHash`: what the restore wrote, not what the pull read. */
async function expectOnDisk(dir: string, out: string, narHash: Buffer): Promise<void> {
  const rehashed = await slime(['hash', 'path', out], { cwd: dir });
  expect(rehashed.stdout.trim(), out).toBe(toNixBase32(narHash));
}

describe('parallel substitution', () => {
  it(`substitutes ${2 * WIDTH + 1} derivations with -j 1, every path registered after its references`, async () => {
    const dir = tempDir('slime-cache-parallel-');
    const store = path.join(dir, 'store');
    // leaf-i (no inputs), mid-i refers to leaf-i, top refers to every mid: the mids and top are substituted ahead.
    const module = writeModule(
      dir,
      'wide.ts',
      `const tools = ['mkdir', 'echo'];
const leaves = Array.from({ length: ${WIDTH} }, (_, i) => derivation({ name: 'leaf-' + i, builder: '/bin/sh', args: ['-c', 'mkdir $out; echo leaf > $out/f'], env: { I: String(i) } as never, tools }));
const mids = leaves.map((leaf, i) => derivation({ name: 'mid-' + i, builder: '/bin/sh', args: ['-c', 'mkdir $out; echo $leaf > $out/ref'], env: { leaf } as never, tools }));
export const top = derivation({ name: 'top', builder: '/bin/sh', args: ['-c', 'mkdir $out; echo ' + mids.map((_, i) => '$m' + i).join(' ') + ' > $out/refs'],
  env: Object.fromEntries(mids.map((m, i) => ['m' + i, m])) as never, tools });
export const targets = [target('wide', 'a wide graph of runtime references', [top])];`,
    );
    const built = await slime(['realize', 'wide', '-f', module, '--store', store, '--no-link', '--no-substitute', '--no-sandbox'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const key = await slime(['key', 'generate', 'wide-1', '--dir', dir], { cwd: dir });
    const cache = `file://${dir}/cache`;
    const push = await slime(['cache', 'push', cache, 'wide', '-f', module, '--store', store, '--key', path.join(dir, 'wide-1.sec')], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    removeStore(store);

    const r = await slime(
      ['realize', 'wide', '-f', module, '--store', store, '--no-link', '-j', '1', '--log-format', 'json', '--substituters', cache, '--trusted-public-keys', key.stdout.trim()],
      { cwd: dir },
    );
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const evs = events(r);
    // The mids and top are substituted ahead (no build slot), each path's references alongside it;
    // a path that another's substitution brought in as a reference before its own turn is
    // reported substituted all the same, never cached: every derivation was substituted.
    expect(count(evs, 'substituted'), r.stderr.slice(-2000)).toBe(2 * WIDTH + 1);
    expect(count(evs, 'cached')).toBe(0);
    expect(count(evs, 'built')).toBe(0);
    expect(count(evs, 'cache-warning')).toBe(0);

    const db = new Database(path.join(store, '.slime', 'db.sqlite'), { readonly: true });
    try {
      // Of the outputs (the .drv files are registered by the plan): every mid refers to its leaf, top to
      // every mid, 2 * WIDTH references, each registered (a smaller id) before its referrer.
      const rows = db
        .prepare(`SELECT r.referrer, r.reference FROM Refs r JOIN ValidPaths v ON v.id = r.referrer WHERE v.path NOT LIKE '%.drv' AND r.referrer != r.reference`)
        .all() as { referrer: number; reference: number }[];
      expect(rows.length).toBe(2 * WIDTH);
      for (const { referrer, reference } of rows) expect(reference).toBeLessThan(referrer);
      expect((db.prepare('SELECT count(*) AS n FROM ValidPaths').get() as { n: number }).n).toBeGreaterThanOrEqual(2 * WIDTH + 1);
    } finally {
      db.close();
    }
    expect(fs.readdirSync(path.join(store, '.slime', 'tmp'))).toEqual([]);
    removeStore(dir);
  }, 300_000);

  it('a big NAR (restored on the restore thread) that breaks off midway leaves nothing registered and no temporary', async () => {
    const dir = tempDir('slime-cache-midway-');
    const store = path.join(dir, 'store');
    const half = Math.ceil(WORKER_NAR_SIZE / 2) + 4096;
    // Two files, each more than half the thread's threshold: the first is on disk when the second breaks.
    const module = writeModule(
      dir,
      'big.ts',
      `export const big = derivation({ name: 'big', builder: '/bin/sh', args: ['-c', 'mkdir $out; head -c ${half} /dev/zero | tr "\\\\0" a > $out/a; head -c ${half} /dev/zero | tr "\\\\0" b > $out/b'], tools: ['mkdir', 'head', 'tr'] });
export const targets = [target('big', 'two files of a few MB', [big])];`,
    );
    const built = await slime(['realize', 'big', '-f', module, '--store', store, '--no-link', '--no-substitute', '--no-sandbox'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const out = built.stdout.trim();
    expect(fs.statSync(path.join(out, 'b')).size).toBe(half);
    await slime(['key', 'generate', 'big-1', '--dir', dir], { cwd: dir });
    const pub = fs.readFileSync(path.join(dir, 'big-1.pub'), 'utf8').trim();
    const root = path.join(dir, 'cache');
    const push = await slime(['cache', 'push', `file://${root}`, out, '--store', store, '--key', path.join(dir, 'big-1.sec'), '--compression', 'none'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);

    // The NAR with the second file's type token broken ("regular" -> "regulax"), re-hashed and re-signed:
    // only the parser, midway, can find what is wrong.
    const infoFile = path.join(root, `${path.basename(out).slice(0, 32)}.narinfo`);
    const info = parseNarInfo(fs.readFileSync(infoFile, 'utf8'), store);
    expect(info.narSize).toBeGreaterThanOrEqual(WORKER_NAR_SIZE);

    // First, as pushed: handed to the thread in batches, the tree comes out as it went in.
    removeStore(store);
    const whole = await realizeFrom(dir, 'big', module, store, root, pub);
    expect(whole.code, whole.stderr.slice(-2000)).toBe(0);
    expect(count(events(whole), 'substituted')).toBe(1);
    await expectOnDisk(dir, out, info.narHash);

    const nar = fs.readFileSync(path.join(root, info.url));
    const second = nar.indexOf('regular', nar.indexOf('regular') + 7);
    expect(second).toBeGreaterThan(half);
    nar[second + 6] = 'x'.charCodeAt(0);
    const fileHash = createHash('sha256').update(nar).digest();
    info.url = `nar/${toNixBase32(fileHash)}.nar`;
    info.fileHash = fileHash;
    info.narHash = fileHash;
    fs.writeFileSync(path.join(root, info.url), nar);
    info.sigs = [signFingerprint(parseSecretKey(fs.readFileSync(path.join(dir, 'big-1.sec'), 'utf8')), fingerprint(info))];
    fs.writeFileSync(infoFile, serializeNarInfo(info));
    removeStore(store);

    const r = await realizeFrom(dir, 'big', module, store, root, pub);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const evs = events(r);
    const warnings = evs.filter((e) => e.type === 'cache-warning');
    expect(warnings.length, r.stderr.slice(-2000)).toBe(1);
    expect(warnings[0].cache).toBe(`file://${root}`);
    expect(String(warnings[0].reason)).toMatch(/invalid NAR at byte \d+: unknown file type "regulax"/);
    expect(String(warnings[0].reason)).not.toContain('\n');
    expect(count(evs, 'substituted')).toBe(0);
    expect(count(evs, 'built')).toBe(1);
    // Registered is what the build made: no signature from the cache.
    const pathInfo = JSON.parse((await slime(['store', 'path-info', out, '--store', store, '--json'])).stdout);
    expect(pathInfo.signatures).toEqual([]);
    expect(fs.readdirSync(path.join(store, '.slime', 'tmp'))).toEqual([]);
    expect(fs.readdirSync(store).filter((e) => !e.startsWith('.') && !e.endsWith('.drv'))).toEqual([path.basename(out)]);
    removeStore(dir);
  }, 300_000);

  it('a big zstd NAR of random bytes comes out byte for byte, though the decompression fills the buffers the thread gave back', async () => {
    const dir = tempDir('slime-cache-recycled-');
    const store = path.join(dir, 'store');
    // 40 files of random bytes and odd sizes (~24 MB): most cross a 1 MiB buffer's end, and the
    // decompression goes round the returned buffers several times. A buffer filled again
    // before the thread had written it would put other bytes into some file.
    const files = Array.from({ length: 40 }, (_, i) => `head -c ${400_000 + i * 17_389} /dev/urandom > $out/f${i}`).join('; ');
    const module = writeModule(
      dir,
      'random.ts',
      `export const random = derivation({ name: 'random', builder: '/bin/sh', args: ['-c', 'mkdir $out; ${files}'], tools: ['mkdir', 'head'] });
export const targets = [target('random', 'files of random bytes', [random])];`,
    );
    const built = await slime(['realize', 'random', '-f', module, '--store', store, '--no-link', '--no-substitute', '--no-sandbox'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const out = built.stdout.trim();
    await slime(['key', 'generate', 'random-1', '--dir', dir], { cwd: dir });
    const pub = fs.readFileSync(path.join(dir, 'random-1.pub'), 'utf8').trim();
    const root = path.join(dir, 'cache');
    const push = await slime(['cache', 'push', `file://${root}`, out, '--store', store, '--key', path.join(dir, 'random-1.sec')], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    const info = parseNarInfo(fs.readFileSync(path.join(root, `${path.basename(out).slice(0, 32)}.narinfo`), 'utf8'), store);
    expect(info.compression).toBe('zstd');
    expect(info.narSize).toBeGreaterThanOrEqual(2 * WORKER_NAR_SIZE);

    removeStore(store);
    const r = await realizeFrom(dir, 'random', module, store, root, pub);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(count(events(r), 'substituted')).toBe(1);
    await expectOnDisk(dir, out, info.narHash);
    removeStore(dir);
  }, 300_000);

  it('three big NARs share the restore thread (two at a time with -j 2): the one that fails its NarHash is dropped there, the others come out whole', async () => {
    const dir = tempDir('slime-cache-shared-thread-');
    const store = path.join(dir, 'store');
    const size = WORKER_NAR_SIZE + 1_000_003;
    const module = writeModule(
      dir,
      'three.ts',
      [0, 1, 2]
        .map((i) => `export const big${i} = derivation({ name: 'big-${i}', builder: '/bin/sh', args: ['-c', 'mkdir $out; head -c ${size} /dev/urandom > $out/r; echo ${i} > $out/i'], tools: ['mkdir', 'head'] });`)
        .join('\n') + `\nexport const targets = [target('three', 'three big outputs', [big0, big1, big2])];`,
    );
    const built = await slime(['realize', 'three', '-f', module, '--store', store, '--no-link', '--no-substitute', '--no-sandbox'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const outs = built.stdout.trim().split('\n');
    expect(outs).toHaveLength(3);
    await slime(['key', 'generate', 'three-1', '--dir', dir], { cwd: dir });
    const pub = fs.readFileSync(path.join(dir, 'three-1.pub'), 'utf8').trim();
    const root = path.join(dir, 'cache');
    const push = await slime(['cache', 'push', `file://${root}`, ...outs, '--store', store, '--key', path.join(dir, 'three-1.sec')], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    const narHashes = outs.map((o) => parseNarInfo(fs.readFileSync(path.join(root, `${path.basename(o).slice(0, 32)}.narinfo`), 'utf8'), store).narHash);

    // big-1's NAR with one byte of its random file changed, served uncompressed; the narinfo keeps
    // its NarHash (and so its signature): only the hash at the NAR's end can tell.
    const bad = outs.find((o) => o.endsWith('-big-1'))!;
    const infoFile = path.join(root, `${path.basename(bad).slice(0, 32)}.narinfo`);
    const info = parseNarInfo(fs.readFileSync(infoFile, 'utf8'), store);
    const unpacked = spawnSync('zstd', ['-d', '-c', path.join(root, info.url)], { maxBuffer: 64 << 20 });
    expect(unpacked.status).toBe(0);
    const nar = unpacked.stdout as Buffer;
    nar[Math.floor(nar.length / 2)] ^= 0xff;
    const fileHash = createHash('sha256').update(nar).digest();
    info.url = `nar/${toNixBase32(fileHash)}.nar`;
    info.compression = 'none';
    info.fileHash = fileHash;
    info.fileSize = nar.length;
    fs.writeFileSync(path.join(root, info.url), nar);
    fs.writeFileSync(infoFile, serializeNarInfo(info));

    removeStore(store);
    const r = await realizeFrom(dir, 'three', module, store, root, pub, ['-j', '2']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const evs = events(r);
    const warnings = evs.filter((e) => e.type === 'cache-warning');
    expect(warnings.map((w) => String(w.reason)), r.stderr.slice(-2000)).toEqual([expect.stringMatching(/NarHash .*corrupt or tampered NAR/)]);
    expect(count(evs, 'substituted')).toBe(2);
    expect(count(evs, 'built')).toBe(1);
    for (const [i, out] of outs.entries()) {
      if (out === bad) continue;
      await expectOnDisk(dir, out, narHashes[i]);
    }
    expect(fs.readFileSync(path.join(bad, 'i'), 'utf8')).toBe('1\n');
    expect(fs.readdirSync(path.join(store, '.slime', 'tmp'))).toEqual([]);
    removeStore(dir);
  }, 300_000);
});
