/**
 * A real WebDAV server as the team's cache: Debian's nginx with its dav module, started
 * by the test on loopback with basic auth on everything but reading. slime pushes
 * through it with netrc credentials, substitutes from it, lists it (PROPFIND), and a
 * PUT without credentials is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slime, tempDir } from './support/cli.js';
import { buildToy, count, events, realizeWith, removeStore, toyModule } from './support/cache.js';

const dir = tempDir('slime-cache-nginx-');
const store = path.join(dir, 'store');
const module = toyModule(dir, 'nginx');
let nginx: ChildProcess;
let port = 0;
let url = '';
let pub = '';
const netrc = path.join(dir, 'netrc');

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return p;
}

async function listening(p: number, child: ChildProcess, log: string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(p, '127.0.0.1', () => {
        sock.end();
        resolve(true);
      });
      sock.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  const built = await buildToy(dir, store, module);
  expect(built.code, built.stderr).toBe(0);
  pub = (await slime(['key', 'generate', 'nginx-test-1', '--dir', dir], { cwd: dir })).stdout.trim();
  const root = path.join(dir, 'webdav');
  fs.mkdirSync(root);
  port = await freePort();
  url = `http://127.0.0.1:${port}/cache`;
  fs.writeFileSync(path.join(dir, 'htpasswd'), 'team:{PLAIN}s3cret-pass\n');
  fs.writeFileSync(netrc, `machine 127.0.0.1 login team password s3cret-pass\n`);
  const conf = path.join(dir, 'nginx.conf');
  // As root, the worker runs as root too, so it may write the temporary directory's cache.
  fs.writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
${process.getuid?.() === 0 ? 'user root;' : ''}
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
events { worker_connections 64; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/nginx-body;
  proxy_temp_path ${dir}/nginx-proxy;
  fastcgi_temp_path ${dir}/nginx-fastcgi;
  uwsgi_temp_path ${dir}/nginx-uwsgi;
  scgi_temp_path ${dir}/nginx-scgi;
  client_max_body_size 0;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /cache/ {
      dav_methods PUT DELETE MKCOL;
      dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      limit_except GET HEAD PROPFIND OPTIONS {
        auth_basic "slime cache";
        auth_basic_user_file ${dir}/htpasswd;
      }
    }
  }
}
`,
  );
  nginx = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await listening(port, nginx, `${dir}/nginx-error.log`);
}, 120_000);

afterAll(() => {
  nginx?.kill('SIGTERM');
});

describe('nginx WebDAV as a binary cache', () => {
  it('refuses a push without credentials', async () => {
    const r = await slime(['cache', 'push', url, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'nginx-test-1.sec')], {
      cwd: dir,
      env: { HOME: dir, NETRC: path.join(dir, 'no-netrc'), SLIME_CACHE_TOKEN: '' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the upload of nix-cache-info \(HTTP 401\)/);
    expect(fs.existsSync(path.join(dir, 'webdav', 'cache', 'nix-cache-info'))).toBe(false);
  });

  it('takes a push with the credentials in a netrc file, and lists it', async () => {
    const r = await slime(['cache', 'push', url, 'toy', '-f', module, '--store', store, '--key', path.join(dir, 'nginx-test-1.sec'), '-j', '2'], {
      cwd: dir,
      env: { NETRC: netrc, SLIME_CACHE_TOKEN: '' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('pushed 2 path(s)');
    const info = await slime(['cache', 'info', url], { cwd: dir });
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toContain('Paths: 2\n');
    const verify = await slime(['cache', 'verify', url, '--trusted-public-keys', pub], { cwd: dir });
    expect(verify.code, verify.stderr).toBe(0);
  });

  it('refuses a raw PUT without credentials', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/cache/evil.narinfo' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('StorePath: /evil\n');
    });
    expect(status).toBe(401);
    expect(fs.existsSync(path.join(dir, 'webdav', 'cache', 'evil.narinfo'))).toBe(false);
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
    } finally {
      removeStore(store);
      fs.renameSync(fresh, store);
    }
  });
});
