/**
 * `slime cache serve` as a team's cache: push through it with the token (bearer or
 * netrc basic auth), substitute from it, and the server's refusals: PUT without the
 * token, request paths that leave the cache, uploads whose NAR does not match.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slime, startSlime, tempDir } from './support/cli.js';
import { until } from './support/until.js';
import { buildToy, count, events, outputsIn, realizeWith, removeStore, toyModule } from './support/cache.js';

const dir = tempDir('slime-cache-serve-');
const store = path.join(dir, 'store');
const module = toyModule(dir, 'serve');
const cacheDir = path.join(dir, 'served');
const token = 'serve-test-token-0123456789abcdef';
let server: ChildProcess;
let url = '';
let top = '';
let pub = '';

function request(method: string, rawPath: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: rawPath, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts `slime cache serve` with ARGS; resolves with its URL once it prints it, and what it said on stderr so far. */
async function serveCache(args: string[]): Promise<{ server: ChildProcess; url: string; stderr: () => string }> {
  const s = startSlime(['cache', 'serve', ...args, '--port', '0'], { cwd: dir });
  let stderr = '';
  s.stderr!.on('data', (d) => (stderr += d));
  const served = await new Promise<string>((resolve, reject) => {
    let out = '';
    s.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    s.on('exit', (code) => reject(new Error(`slime cache serve exited with ${code}: ${stderr}`)));
  });
  return { server: s, url: served, stderr: () => stderr };
}

beforeAll(async () => {
  const built = await buildToy(dir, store, module);
  expect(built.code, built.stderr).toBe(0);
  top = built.stdout.trim();
  const key = await slime(['key', 'generate', 'serve-test-1', '--dir', dir], { cwd: dir });
  pub = key.stdout.trim();
  fs.writeFileSync(path.join(dir, 'token'), `${token}\n`);
  ({ server, url } = await serveCache([cacheDir, '--token-file', path.join(dir, 'token')]));
}, 120_000);

afterAll(() => {
  server?.kill('SIGTERM');
});

describe('slime cache serve', () => {
  it('refuses a push without the token, and nothing becomes visible', async () => {
    const r = await slime(['cache', 'push', url, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'serve-test-1.sec')], { cwd: dir, env: { HOME: dir, SLIME_CACHE_TOKEN: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*refused the upload of nix-cache-info \(HTTP 401\).*~\/\.netrc/);
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.narinfo'))).toEqual([]);
  });

  it('takes a push with basic auth from a netrc file', async () => {
    const netrc = path.join(dir, 'netrc');
    fs.writeFileSync(netrc, `machine 127.0.0.1\n  login team\n  password ${token}\n`);
    const base = path.join(store, outputsIn(store).find((p) => p.endsWith('-base'))!);
    const r = await slime(['cache', 'push', url, base, '--store', store, '--key', path.join(dir, 'serve-test-1.sec'), '--compression', 'xz'], { cwd: dir, env: { NETRC: netrc, SLIME_CACHE_TOKEN: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('pushed 1 path(s)');
  });

  it('takes a push with the bearer token, skipping what is there; the same push again skips everything', async () => {
    const args = ['cache', 'push', url, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'serve-test-1.sec')];
    const r = await slime(args, { cwd: dir, env: { SLIME_CACHE_TOKEN: token } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('pushed 1 path(s)');
    expect(r.stderr).toContain('1 already there');
    const again = await slime(args, { cwd: dir, env: { SLIME_CACHE_TOKEN: token } });
    expect(again.stderr).toContain('pushed 0 path(s)');
  });

  it('reports itself with slime cache info and verifies with slime cache verify', async () => {
    const info = await slime(['cache', 'info', url], { cwd: dir });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain(`StoreDir: ${store}\n`);
    expect(info.stdout).toContain('Paths: 2\n');
    const verify = await slime(['cache', 'verify', url, '--trusted-public-keys', pub], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stderr).toContain('2 of 2 path(s) verified');
  });

  it('substitutes a fresh store from it', async () => {
    const fresh = path.join(dir, 'store-built');
    fs.renameSync(store, fresh);
    try {
      const r = await realizeWith(dir, store, module, ['--substituters', url, '--trusted-public-keys', pub]);
      expect(r.code, r.stderr).toBe(0);
      const evs = events(r);
      expect(count(evs, 'substituted')).toBe(2);
      expect(count(evs, 'built')).toBe(0);
      expect(evs.some((e) => e.type === 'progress' && e.direction === 'download' && e.source === url)).toBe(true);
      expect(fs.readFileSync(path.join(top, 't'), 'utf8')).toBe('base serve\n');
    } finally {
      removeStore(store);
      fs.renameSync(fresh, store);
    }
  });

  it('refuses request paths that leave the cache', async () => {
    for (const p of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '//etc/passwd', '/nar/../nix-cache-info', '/%2Fetc%2Fpasswd', '/.upload-x']) {
      const r = await request('GET', p);
      expect(r.status, p).toBe(400);
      const put = await request('PUT', p, 'x', { authorization: `Bearer ${token}` });
      expect(put.status, p).toBe(400);
    }
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('refuses an upload whose NAR does not match its narinfo, and a NAR whose hash is not its name', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const name = `${path.basename(top).slice(0, 32)}.narinfo`;
    const good = fs.readFileSync(path.join(cacheDir, name), 'utf8');
    fs.rmSync(path.join(cacheDir, name));
    const wrongSize = good.replace(/^NarSize: (\d+)$/m, (_, n) => `NarSize: ${Number(n) + 8}`);
    const r1 = await request('PUT', `/${name}`, wrongSize, auth);
    expect(r1.status).toBe(422);
    expect(r1.text).toContain('NarSize');
    const wrongHash = good.replace(/^NarHash: sha256:(.)/m, (_, c) => `NarHash: sha256:${c === '0' ? '1' : '0'}`);
    const r2 = await request('PUT', `/${name}`, wrongHash, auth);
    expect(r2.status).toBe(422);
    const missingNar = good.replace(/^URL: nar\/(.)/m, (_, c) => `URL: nar/${c === '0' ? '1' : '0'}`);
    const r3 = await request('PUT', `/${name}`, missingNar, auth);
    expect(r3.status).toBe(409);
    expect((await request('GET', `/${name}`)).status).toBe(404);
    const r4 = await request('PUT', `/nar/${'0'.repeat(52)}.nar.zst`, 'not the file its name says', auth);
    expect(r4.status).toBe(422);
    expect((await request('HEAD', `/nar/${'0'.repeat(52)}.nar.zst`)).status).toBe(404);
    // The genuine narinfo is still accepted.
    expect((await request('PUT', `/${name}`, good, auth)).status).toBe(201);
    expect((await request('GET', `/${name}`)).text).toBe(good);
  });

  it('refuses PUT with a wrong token', async () => {
    const r = await request('PUT', '/nix-cache-info', `StoreDir: ${store}\n`, { authorization: 'Bearer wrong-token-wrong-token-000' });
    expect(r.status).toBe(401);
  });
});

describe('slime cache serve --trusted-public-keys', () => {
  it('takes only narinfos signed by a trusted key: unsigned and other-signed pushes are refused, nothing becomes visible', async () => {
    const signedDir = path.join(dir, 'served-signed');
    const other = await slime(['key', 'generate', 'serve-other-1', '--dir', dir], { cwd: dir });
    expect(other.code, other.stderr).toBe(0);
    const { server: s, url: signedUrl } = await serveCache([signedDir, '--token-file', path.join(dir, 'token'), '--trusted-public-keys', pub]);
    try {
      const env = { SLIME_CACHE_TOKEN: token };
      const narinfos = () => fs.readdirSync(signedDir).filter((f) => f.endsWith('.narinfo'));
      const unsigned = await slime(['cache', 'push', signedUrl, top, '--store', store], { cwd: dir, env });
      expect(unsigned.code).not.toBe(0);
      expect(unsigned.stderr).toMatch(/no valid signature by a key this server trusts \(serve-test-1\); it is not signed/);
      const wrong = await slime(['cache', 'push', signedUrl, top, '--store', store, '--key', path.join(dir, 'serve-other-1.sec')], { cwd: dir, env });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/it is signed by serve-other-1/);
      expect(narinfos()).toEqual([]);
      const good = await slime(['cache', 'push', signedUrl, top, '--store', store, '--key', path.join(dir, 'serve-test-1.sec')], { cwd: dir, env });
      expect(good.code, good.stderr).toBe(0);
      expect(narinfos()).toHaveLength(2);
    } finally {
      s.kill('SIGTERM');
    }
  });
});

describe('slime cache serve, read-only, on a directory that is not a cache yet', () => {
  it('warns that it is not a cache, creates nothing, and answers 404 until a push fills it', async () => {
    const missing = path.join(dir, 'not-yet');
    const { server: ro, url: roUrl, stderr } = await serveCache([missing]);
    try {
      // stderr and stdout are two pipes: the warning, written first, may arrive after the URL.
      await until(() => expect(stderr()).toContain(`warning: ${missing} does not exist yet, so it is not a binary cache: clients get 404 until one is pushed into it`));
      expect(fs.existsSync(missing)).toBe(false);
      const info = await slime(['cache', 'info', roUrl], { cwd: dir });
      expect(info.code).toBe(1);
      // Filled through the file system while it serves: then it answers.
      const pushed = await slime(['cache', 'push', `file://${missing}`, top, '--store', store], { cwd: dir });
      expect(pushed.code, pushed.stderr).toBe(0);
      const after = await slime(['cache', 'info', roUrl], { cwd: dir });
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toMatch(/^Paths: [1-9]/m);
    } finally {
      ro.kill('SIGTERM');
    }
  });

  it('refuses a file', async () => {
    const file = path.join(dir, 'token');
    const r = await slime(['cache', 'serve', file, '--port', '0'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: cannot serve ${file}: it is a file, not a directory; pass the cache's directory\n`);
  });
});
