/**
 * The installed `slime` (bin/slime) starts node without NODE_EXTRA_CA_CERTS when the
 * variable names the file OpenSSL is told to read (SSL_CERT_FILE), with node's
 * --use-openssl-ca instead: the same certificates, read at the first HTTPS connection
 * and not at every start. An HTTPS server whose certificate only that file trusts
 * shows the certificates are still there; the module slime evaluates shows that
 * slime's own process has the variable back (what it starts inherits it).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, collect, tempDir, writeModule } from './support/cli.js';

const BIN = path.join(ROOT, 'bin/slime');
const dir = tempDir('slime-launcher-ca-');
const cert = path.join(dir, 'cert.pem');
const key = path.join(dir, 'key.pem');
let server: https.Server;
let url: string;

beforeAll(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
    if (req.url === '/nix-cache-info') res.end('StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 41\n');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** bin/slime with exactly these certificate variables (the others of this machine's environment removed). */
function run(args: string[], certs: Record<string, string>) {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
  for (const k of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'SLIME_NODE_EXTRA_CA_CERTS']) delete env[k];
  return collect(spawn(BIN, args, { cwd: dir, env: { ...env, ...certs }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

describe('bin/slime and NODE_EXTRA_CA_CERTS', () => {
  it('trusts the certificates of NODE_EXTRA_CA_CERTS when it is also SSL_CERT_FILE (read lazily)', async () => {
    const r = await run(['cache', 'info', url], { NODE_EXTRA_CA_CERTS: cert, SSL_CERT_FILE: cert });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Priority\D+41/);
    expect(r.code).toBe(0);
  });

  it('leaves NODE_EXTRA_CA_CERTS to node when it names another file', async () => {
    const r = await run(['cache', 'info', url], { NODE_EXTRA_CA_CERTS: cert });
    expect(r.stdout).toMatch(/Priority\D+41/);
    expect(r.code).toBe(0);
  });

  it('without either variable the server is not trusted: a one-line error naming the cache', async () => {
    const r = await run(['cache', 'info', url], {});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(url);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('gives slime and what it runs the variable back', async () => {
    const file = writeModule(dir, 'env.ts', `export const targets = [target('ca', 'env', [derivation({ name: 'ca', builder: '/bin/sh', args: ['-c', 'echo > $out'], env: { seen: String(process.env.NODE_EXTRA_CA_CERTS) + '|' + String(process.env.SLIME_NODE_EXTRA_CA_CERTS) } })])];\n`);
    const r = await run(['show', 'ca', '-f', file, '--store', path.join(dir, 'store'), '--drv'], { NODE_EXTRA_CA_CERTS: cert, SSL_CERT_FILE: cert });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`("seen","${cert}|undefined")`);
  });
});
