/**
 * A binary cache over HTTP(S): GET and HEAD to read, PUT to write, as WebDAV servers
 * (nginx's dav module), static hosts and `slime cache serve` take it. Nothing is
 * buffered: bodies stream both ways.
 *
 * Credentials: a bearer token from `SLIME_CACHE_TOKEN`, else the login and password
 * that the netrc file (./netrc.ts) has for the host, sent as HTTP basic auth.
 * A server that stops sending for `SLIME_CACHE_TIMEOUT` seconds (default 30) has failed.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { type BinaryCache, type CacheFile, CacheError, isSafeRelativePath } from './binary-cache.js';
import { credentialsFor } from './netrc.js';

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
};

export class HttpCache implements BinaryCache {
  readonly url: string;
  private readonly base: URL;
  private readonly authorization?: string;
  private readonly timeoutMs: number;

  constructor(url: string, env: NodeJS.ProcessEnv) {
    const u = new URL(url);
    const creds = u.username ? { login: decodeURIComponent(u.username), password: decodeURIComponent(u.password) } : credentialsFor(u.hostname, env);
    u.username = '';
    u.password = '';
    u.search = '';
    if (!u.pathname.endsWith('/')) u.pathname += '/';
    this.base = u;
    this.url = u.toString().replace(/\/$/, '');
    if (env.SLIME_CACHE_TOKEN) this.authorization = `Bearer ${env.SLIME_CACHE_TOKEN.trim()}`;
    else if (creds) this.authorization = `Basic ${Buffer.from(`${creds.login}:${creds.password}`).toString('base64')}`;
    const t = Number(env.SLIME_CACHE_TIMEOUT ?? 30);
    this.timeoutMs = (Number.isFinite(t) && t > 0 ? t : 30) * 1000;
  }

  private target(rel: string): URL {
    if (!isSafeRelativePath(rel)) throw new CacheError(`refusing path ${JSON.stringify(rel)}, which leaves the cache`);
    return new URL(rel, this.base);
  }

  private request(
    method: string,
    url: URL,
    opts: { body?: Readable; length?: number; contentType?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<http.IncomingMessage> {
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...opts.headers };
    if (this.authorization) headers.authorization = this.authorization;
    if (opts.length !== undefined) headers['content-length'] = String(opts.length);
    if (opts.contentType) headers['content-type'] = opts.contentType;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: agents[url.protocol as 'http:' | 'https:'], signal: opts.signal }, resolve);
      req.setTimeout(this.timeoutMs, () => req.destroy(new CacheError(`timed out: no data for ${this.timeoutMs / 1000} s`)));
      req.on('error', (e) => reject(describeNetworkError(e, url)));
      if (opts.body) {
        opts.body.on('error', (e) => req.destroy(e));
        opts.body.pipe(req);
      } else req.end();
    });
  }

  /** GET or HEAD, following redirects. */
  private async fetch(method: 'GET' | 'HEAD', rel: string, signal?: AbortSignal): Promise<http.IncomingMessage | undefined> {
    let url = this.target(rel);
    for (let hops = 0; ; hops++) {
      const res = await this.request(method, url, { signal });
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && hops < 5) {
        res.resume();
        url = new URL(res.headers.location, url);
        continue;
      }
      if (status === 404 || status === 410) {
        res.resume();
        return undefined;
      }
      if (status < 200 || status >= 300) {
        const detail = await shortBody(res);
        throw new CacheError(`HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} for ${method} ${rel}${detail}`);
      }
      return res;
    }
  }

  async getFile(rel: string, signal?: AbortSignal): Promise<CacheFile | undefined> {
    const res = await this.fetch('GET', rel, signal);
    if (!res) return undefined;
    const length = res.headers['content-length'];
    return { body: res, size: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined };
  }

  async hasFile(rel: string): Promise<boolean> {
    const res = await this.fetch('HEAD', rel);
    res?.resume();
    return res !== undefined;
  }

  async putFile(rel: string, localFile: string, contentType: string): Promise<void> {
    try {
      const size = (await fs.promises.stat(localFile)).size;
      await this.put(rel, fs.createReadStream(localFile, { highWaterMark: 1 << 20 }), size, contentType);
    } finally {
      await fs.promises.rm(localFile, { force: true });
    }
  }

  async putText(rel: string, text: string, contentType: string): Promise<void> {
    const { Readable } = await import('node:stream');
    const bytes = Buffer.from(text);
    await this.put(rel, Readable.from([bytes]), bytes.length, contentType);
  }

  private async put(rel: string, body: Readable, length: number, contentType: string): Promise<void> {
    const res = await this.request('PUT', this.target(rel), { body, length, contentType });
    const status = res.statusCode ?? 0;
    const detail = await shortBody(res);
    if (status >= 200 && status < 300) return;
    if (status === 401 || status === 403) {
      throw new CacheError(
        `the server refused the upload of ${rel} (HTTP ${status})${detail}; ` +
          `give credentials for ${this.base.hostname} in ~/.netrc (or $NETRC) or a token in SLIME_CACHE_TOKEN`,
      );
    }
    throw new CacheError(`upload of ${rel} failed: HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${detail}`);
  }

  /** Lists the root with WebDAV's PROPFIND where the server supports it. */
  async listNarInfos(): Promise<string[] | undefined> {
    const res = await this.request('PROPFIND', this.base, { headers: { depth: '1' } });
    const status = res.statusCode ?? 0;
    if (status !== 207) {
      res.resume();
      return undefined;
    }
    let text = '';
    for await (const chunk of res) {
      text += (chunk as Buffer).toString();
      if (text.length > 64 << 20) break;
    }
    const names = [...text.matchAll(/([0-9a-z]{32}\.narinfo)<\/(?:[A-Za-z]+:)?href>/g)].map((m) => m[1]);
    return [...new Set(names)].sort();
  }
}

async function shortBody(res: http.IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of res) if (text.length < 300) text += (chunk as Buffer).toString();
  const line = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 160);
  return line ? `: ${line}` : '';
}

function describeNetworkError(e: Error, url: URL): Error {
  if (e instanceof CacheError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return new CacheError(`connection refused by ${url.host}`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CacheError(`cannot resolve host ${url.hostname} (${code})`);
  if (code === 'ECONNRESET') return new CacheError(`connection closed by ${url.host}`);
  if (e.name === 'AbortError') return e;
  return new CacheError(`${e.message}${code ? ` (${code})` : ''}`);
}
