/**
 * Hostile and broken caches: each bad narinfo or NAR is rejected with a one-line
 * warning that names the cache and the reason, nothing from it is registered, and
 * the build goes on by building.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, parseNarInfo, serializeNarInfo, type NarInfo } from '../src/cache/narinfo.js';
import { generateKey, parseSecretKey, signFingerprint } from '../src/cache/signing.js';
import { toNixBase32 } from '../src/hash/base32.js';
import { encodeInt, encodeStr, encodeTokens, padLength } from '../src/nar/format.js';
import { slime, tempDir, writeModule } from './support/cli.js';
import { count, events, outputsIn, removeStore } from './support/cache.js';

const dir = tempDir('slime-cache-hostile-');
const store = path.join(dir, 'store');
const module = writeModule(dir, 'lone.ts', `export const lone = derivation({ name: 'lone', builder: '/bin/sh', args: ['-c', 'mkdir $out; echo lone > $out/f'], tools: ['mkdir', 'echo'] });
export const targets = [target('lone', 'one tiny build', [lone])];`);
const good = path.join(dir, 'good');
let secret = '';
let pub = '';
let lonePath = '';
const servers: http.Server[] = [];

beforeAll(async () => {
  const built = await slime(['realize', 'lone', '-f', module, '--store', store, '--no-link', '--log-format', 'json'], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
  lonePath = built.stdout.trim();
  const key = await slime(['key', 'generate', 'hostile-test-1', '--dir', dir], { cwd: dir });
  pub = key.stdout.trim();
  secret = fs.readFileSync(path.join(dir, 'hostile-test-1.sec'), 'utf8');
  const push = await slime(['cache', 'push', `file://${good}`, lonePath, '--store', store, '--key', path.join(dir, 'hostile-test-1.sec'), '--compression', 'none'], { cwd: dir });
  expect(push.code, push.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  for (const s of servers) s.close();
});

const narinfoName = () => `${path.basename(lonePath).slice(0, 32)}.narinfo`;

interface Variant {
  root: string;
  info: NarInfo;
  /** The NAR file the narinfo points at. */
  narFile: () => string;
  /** Puts `bytes` in the cache as the NAR, under its own file hash, and points the narinfo at it. */
  replaceNar: (bytes: Buffer, compression?: string, ext?: string) => void;
  /** The cache's (uncompressed) NAR with one byte of its file's contents changed. */
  tamperedNar: () => Buffer;
}

let variants = 0;

/** A copy of the good cache with its narinfo edited; re-signed with the trusted key unless `resign` is false. */
function variant(edit: (v: Variant) => void, resign = true): string {
  const root = path.join(dir, `cache-${++variants}`);
  fs.cpSync(good, root, { recursive: true });
  const file = path.join(root, narinfoName());
  const info = parseNarInfo(fs.readFileSync(file, 'utf8'), store);
  const v: Variant = {
    root,
    info,
    narFile: () => path.join(root, info.url),
    replaceNar: (bytes, compression = 'none', ext = '.nar') => {
      const fh = createHash('sha256').update(bytes).digest();
      info.url = `nar/${toNixBase32(fh)}${ext}`;
      info.compression = compression;
      info.fileHash = fh;
      info.fileSize = bytes.length;
      fs.writeFileSync(path.join(root, info.url), bytes);
    },
    tamperedNar: () => {
      const b = fs.readFileSync(path.join(root, info.url));
      b[b.indexOf('lone')] ^= 0x20;
      return b;
    },
  };
  edit(v);
  if (resign) info.sigs = [signFingerprint(parseSecretKey(secret), fingerprint(info))];
  fs.writeFileSync(file, serializeNarInfo(info));
  return `file://${root}`;
}

/** A NAR that is consistent with its narinfo (hash, size) but malicious inside. */
function setNar(v: Variant, nar: Buffer): void {
  v.replaceNar(nar);
  v.info.narHash = createHash('sha256').update(nar).digest();
  v.info.narSize = nar.length;
}

const str = (s: string) => encodeStr(s);
function regular(contents: string): Buffer {
  const b = Buffer.from(contents);
  return Buffer.concat([encodeTokens('(', 'type', 'regular', 'contents'), encodeInt(b.length), b, Buffer.alloc(padLength(b.length)), encodeTokens(')')]);
}
function entry(name: string, node: Buffer): Buffer {
  return Buffer.concat([encodeTokens('entry', '(', 'name'), str(name), encodeTokens('node'), node, encodeTokens(')')]);
}
function directory(...entries: Buffer[]): Buffer {
  return Buffer.concat([encodeTokens('(', 'type', 'directory'), ...entries, encodeTokens(')')]);
}
const nar = (root: Buffer) => Buffer.concat([str('nix-archive-1'), root]);

/** Realizes `lone` into an empty store with only `url` as substituter; checks it was built, not substituted. */
async function expectRejected(url: string, reason: RegExp, env: NodeJS.ProcessEnv = {}): Promise<void> {
  removeStore(store);
  const r = await slime(
    ['realize', 'lone', '-f', module, '--store', store, '--no-link', '--log-format', 'json', '--substituters', url, '--trusted-public-keys', pub],
    { cwd: dir, env },
  );
  expect(r.code, r.stderr).toBe(0);
  const evs = events(r);
  const warnings = evs.filter((e) => e.type === 'cache-warning');
  expect(warnings.length, r.stderr).toBeGreaterThan(0);
  expect(warnings.every((w) => w.cache === url.replace(/\/$/, ''))).toBe(true);
  expect(warnings.map((w) => w.reason).join('\n')).toMatch(reason);
  expect(count(evs, 'substituted')).toBe(0);
  expect(count(evs, 'built')).toBe(1);
  // What is registered is what the build made: no signature came with it from the cache.
  const info = JSON.parse((await slime(['store', 'path-info', lonePath, '--store', store, '--json'])).stdout);
  expect(info.signatures).toEqual([]);
  expect(fs.readFileSync(path.join(lonePath, 'f'), 'utf8')).toBe('lone\n');
  expect(outputsIn(store)).toEqual([path.basename(lonePath)]);
  expect(fs.readdirSync(path.join(store, '.slime', 'tmp'))).toEqual([]);
  // The plain logger says the same in one line.
  expect(warnings.every((w) => !String(w.reason).includes('\n'))).toBe(true);
}

/** Realizes `lone` into an empty store with only `url` as substituter; checks it was substituted. */
async function expectSubstituted(url: string): Promise<void> {
  removeStore(store);
  const r = await slime(['realize', 'lone', '-f', module, '--store', store, '--no-link', '--log-format', 'json', '--substituters', url, '--trusted-public-keys', pub], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(count(events(r), 'substituted')).toBe(1);
}

/** `slime cache verify` of `url` fails and names the FileHash mismatch. */
async function expectVerifyNamesFileHash(url: string): Promise<void> {
  const verify = await slime(['cache', 'verify', url, '--trusted-public-keys', pub], { cwd: dir });
  expect(verify.code).not.toBe(0);
  expect(verify.stdout + verify.stderr).toMatch(/does not match its FileHash/);
}

describe('a hostile or broken cache is rejected and slime builds', () => {
  it('the good cache is used (control)', async () => {
    await expectSubstituted(`file://${good}`);
  });

  it('caches are tried in nix-cache-info priority order, then in the order given; a bad one falls through to the next', async () => {
    const preferred = path.join(dir, 'preferred');
    fs.cpSync(good, preferred, { recursive: true });
    fs.appendFileSync(path.join(preferred, 'nix-cache-info'), 'Priority: 10\n');
    const bad = variant((v) => (v.info.sigs = []), false);
    removeStore(store);
    const r = await slime(
      ['realize', 'lone', '-f', module, '--store', store, '--no-link', '--log-format', 'json', '--substituters', `file://${good}`, `file://${preferred}`, '--trusted-public-keys', pub],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(events(r).find((e) => e.type === 'substituted')?.from).toBe(`file://${preferred}`);
    fs.appendFileSync(path.join(bad.replace('file://', ''), 'nix-cache-info'), 'Priority: 1\n');
    removeStore(store);
    const r2 = await slime(
      ['realize', 'lone', '-f', module, '--store', store, '--no-link', '--log-format', 'json', '--substituters', `file://${good}`, bad, '--trusted-public-keys', pub],
      { cwd: dir },
    );
    const evs = events(r2);
    expect(evs.find((e) => e.type === 'cache-warning')?.cache).toBe(bad);
    expect(evs.find((e) => e.type === 'substituted')?.from).toBe(`file://${good}`);
  });

  it('a tampered byte in the NAR file: the substitution refuses it by NarHash, `cache verify` names FileHash too', async () => {
    const url = variant((v) => {
      fs.writeFileSync(v.narFile(), v.tamperedNar());
    });
    // The substitution checks what the signature covers, as Nix's does (verified-nar.ts says why).
    await expectRejected(url, /its NarHash is sha256:.*corrupt or tampered NAR/);
    await expectVerifyNamesFileHash(url);
  });

  it('a narinfo whose FileHash alone is wrong: its NAR is used (as by Nix), `cache verify` reports it', async () => {
    const url = variant((v) => (v.info.fileHash = createHash('sha256').update('another file').digest()));
    await expectSubstituted(url);
    await expectVerifyNamesFileHash(url);
  });

  it('a tampered NAR in a well-formed zstd frame: refused by NarHash', async () => {
    const url = variant((v) => {
      v.replaceNar(execFileSync('zstd', ['-q', '-c'], { input: v.tamperedNar() }), 'zstd', '.nar.zst');
    });
    await expectRejected(url, /its NarHash is sha256:.*corrupt or tampered NAR/);
  });

  it('a zstd frame whose own content checksum is damaged: refused, as Nix refuses it (libzstd checks it)', async () => {
    const url = variant((v) => {
      const zst = execFileSync('zstd', ['-q', '-c', '--check'], { input: fs.readFileSync(v.narFile()) });
      zst[zst.length - 1] ^= 0xff; // the frame's last 4 bytes are its content checksum
      v.replaceNar(zst, 'zstd', '.nar.zst');
    });
    await expectRejected(url, /zstd could not decompress the data: Restored data doesn't match checksum/);
  });

  it('a tampered byte in the NAR, without a FileHash to catch it (NarHash)', async () => {
    const url = variant((v) => {
      fs.writeFileSync(v.narFile(), v.tamperedNar());
      v.info.fileHash = undefined;
      v.info.fileSize = undefined;
    });
    await expectRejected(url, /its NarHash is sha256:.*corrupt or tampered NAR/);
  });

  it('a narinfo without signature', async () => {
    await expectRejected(variant((v) => (v.info.sigs = []), false), /its narinfo is not signed/);
  });

  it('a wrong signature by the trusted key name', async () => {
    const url = variant((v) => (v.info.sigs = [`hostile-test-1:${randomBytes(64).toString('base64')}`]), false);
    await expectRejected(url, /signature by hostile-test-1 does not verify/);
  });

  it('a signature by an untrusted key', async () => {
    const other = parseSecretKey(generateKey('intruder-1').secret);
    const url = variant((v) => (v.info.sigs = [signFingerprint(other, fingerprint(v.info))]), false);
    await expectRejected(url, /signed only by keys that are not trusted \(intruder-1\)/);
  });

  it('a wrong NarHash', async () => {
    await expectRejected(variant((v) => (v.info.narHash = createHash('sha256').update('other').digest())), /its NarHash is/);
  });

  it('a NarSize larger than the NAR', async () => {
    await expectRejected(variant((v) => (v.info.narSize += 8)), /but its NarSize is/);
  });

  it('a NarSize smaller than the NAR', async () => {
    await expectRejected(variant((v) => (v.info.narSize -= 8)), /longer than its NarSize/);
  });

  it('a truncated NAR', async () => {
    const url = variant((v) => {
      const b = fs.readFileSync(v.narFile());
      fs.writeFileSync(v.narFile(), b.subarray(0, Math.floor(b.length / 2)));
      v.info.fileHash = undefined;
      v.info.fileSize = undefined;
    });
    await expectRejected(url, /truncated/);
  });

  it('a NAR with a ".." entry', async () => {
    const url = variant((v) => setNar(v, nar(directory(entry('..', directory(entry('escaped', regular('pwned'))))))));
    await expectRejected(url, /invalid file name "\.\."/);
    expect(fs.existsSync(path.join(store, '.slime', 'escaped'))).toBe(false);
  });

  it('a NAR with a symlink escape (a symlink out, then a directory through it)', async () => {
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(outside, { recursive: true });
    const url = variant((v) =>
      setNar(v, nar(directory(entry('a', Buffer.concat([encodeTokens('(', 'type', 'symlink', 'target'), str(outside), encodeTokens(')')])), entry('a', directory(entry('pwned', regular('x'))))))),
    );
    await expectRejected(url, /two entries named "a"/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('References naming a path that no cache has', async () => {
    const ghost = `${store}/${'1'.repeat(32)}-ghost`;
    await expectRejected(variant((v) => v.info.references.push(ghost)), new RegExp(`reference ${ghost} could not be substituted`));
  });

  it('a StorePath in another store dir', async () => {
    const url = variant((v) => (v.info.storePath = `/elsewhere/store/${path.basename(lonePath)}`));
    await expectRejected(url, /describes \/elsewhere\/store\/.*another path/);
  });

  it('a StorePath with another hash', async () => {
    const url = variant((v) => (v.info.storePath = `${store}/${'1'.repeat(32)}-lone`));
    await expectRejected(url, /describes .*11111111111111111111111111111111-lone, another path/);
  });

  it('a cache for another store dir (its nix-cache-info)', async () => {
    const url = variant(() => undefined);
    fs.writeFileSync(path.join(url.replace('file://', ''), 'nix-cache-info'), 'StoreDir: /nix/store\n');
    await expectRejected(url, /it is for store dir \/nix\/store, not /);
  });

  it('a malformed narinfo', async () => {
    const url = variant(() => undefined);
    fs.writeFileSync(path.join(url.replace('file://', ''), narinfoName()), 'this is not a narinfo\n\u0000garbage');
    await expectRejected(url, /malformed narinfo: line "this is not a narinfo" is not "Field: value"/);
  });

  it('a narinfo whose NAR is missing (404)', async () => {
    const url = variant(() => undefined);
    const root = url.replace('file://', '');
    for (const f of fs.readdirSync(path.join(root, 'nar'))) fs.rmSync(path.join(root, 'nar', f));
    await expectRejected(url, /its NAR nar\/.* is missing from the cache/);
  });

  it('a NAR URL that leaves the cache', async () => {
    const url = variant((v) => (v.info.url = '../good/nar/x.nar'));
    await expectRejected(url, /its URL "\.\.\/good\/nar\/x\.nar" leaves the cache/);
  });

  it('a decompression bomb', async () => {
    const bomb = execFileSync('sh', ['-c', 'head -c 300000000 /dev/zero | zstd -q -1 -c'], { maxBuffer: 64 << 20 });
    expect(bomb.length).toBeLessThan(1 << 20);
    const url = variant((v) => v.replaceNar(bomb, 'zstd', '.nar.zst'));
    await expectRejected(url, /longer than its NarSize of \d+ bytes \(a decompression bomb/);
  });

  it('a cache that does not exist', async () => {
    await expectRejected(`file://${dir}/no-such-cache`, /no nix-cache-info/);
  });

  it('a refused connection', async () => {
    const port = await freePort();
    await expectRejected(`http://127.0.0.1:${port}`, /connection refused/);
  });

  it('a server error (HTTP 500)', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/nix-cache-info') res.end(`StoreDir: ${store}\n`);
      else res.writeHead(500).end('boom');
    });
    await expectRejected(url, /HTTP 500/);
  });

  it('a server that stops answering (timeout)', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/nix-cache-info') res.end(`StoreDir: ${store}\n`);
      // else: never answer
    });
    await expectRejected(url, /timed out: no data for 1 s/, { SLIME_CACHE_TIMEOUT: '1' });
  });
});

function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`)));
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
