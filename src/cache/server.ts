/**
 * `slime cache serve DIR`: a small binary cache server for a team without one.
 *
 * GET and HEAD serve any file of the cache to anyone; PUT needs the token (as
 * `Authorization: Bearer TOKEN`, or HTTP basic auth with TOKEN as the password, so
 * that Nix with a netrc entry can push too). PROPFIND (depth 1) on the root lists the
 * narinfos, as a WebDAV server would. Request paths with `..`, `.`-segments, empty
 * segments or an absolute path are refused.
 *
 * An upload is written to a temporary file and renamed into place only once checked:
 *   nar/<filehash>.nar[.zst|.xz]  its sha256 must be <filehash>
 *   <hashpart>.narinfo           StorePath must have <hashpart> in the cache's store dir;
 *                                its NAR must be in the cache already and match FileHash,
 *                                FileSize, NarHash and NarSize (decompressed, streaming)
 *   nix-cache-info               accepted once; later only with the same StoreDir
 * So a narinfo becomes visible only after its NAR, and only if they agree. With
 * trusted keys (`--trusted-public-keys`), a narinfo must also carry a signature by
 * one of them that verifies: the token lets a machine upload, the key says the paths
 * are the team's builds.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { toNixBase32 } from '../hash/base32.js';
import { isSafeRelativePath } from './binary-cache.js';
import { parseCacheInfo } from './cache-info.js';
import { FileCache } from './file-cache.js';
import { fingerprint, MAX_NARINFO_BYTES, parseNarInfo } from './narinfo.js';
import { parsePublicKey, trustedSigner } from './signing.js';
import { reasonOf } from './substituter.js';
import { verifiedNar } from './verified-nar.js';

export interface ServeOptions {
  dir: string;
  port: number;
  bind: string;
  /** Without a token the server is read-only. */
  token?: string;
  /** NAME:BASE64 keys; when given, a narinfo upload needs a valid signature by one of them. */
  trustedKeys?: string[];
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

const NAR_FILE = /^nar\/([0-9a-df-np-sv-z]{52})\.nar(\.zst|\.xz|\.bz2)?$/;
const NARINFO_FILE = /^([0-9a-df-np-sv-z]{32})\.narinfo$/;
const MAX_NAR_FILE = 64 * 2 ** 30;

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function startCacheServer(opts: ServeOptions): Promise<RunningServer> {
  const dir = path.resolve(opts.dir);
  // Only a server that takes uploads makes the directory; a read-only one changes nothing on disk.
  if (opts.token !== undefined) fs.mkdirSync(path.join(dir, 'nar'), { recursive: true });
  const cache = new FileCache(pathToFileURL(dir).toString());
  const log = opts.log ?? (() => undefined);
  const trusted = (opts.trustedKeys ?? []).map((k) => parsePublicKey(k));
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof Refusal ? e.status : 500;
      const message = e instanceof Refusal ? e.message : `internal error: ${reasonOf(e)}`;
      log(`${req.method} ${req.url} ${status} ${message}`);
      if (!res.headersSent) {
        const extra: Record<string, string> = status === 401 ? { 'www-authenticate': 'Basic realm="slime cache"' } : {};
        res.writeHead(status, { 'content-type': 'text/plain', ...extra });
      }
      res.end(`${message}\n`);
      req.resume();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rel = requestPath(req.url ?? '/');
    if (req.method === 'GET' || req.method === 'HEAD') return serveFile(rel, req.method, res);
    if (req.method === 'PROPFIND' && rel === '') return list(res);
    if (req.method === 'PUT') {
      authorize(req);
      await accept(rel, req);
      log(`PUT /${rel} 201`);
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('stored\n');
      return;
    }
    throw new Refusal(405, `method ${req.method} is not allowed; use GET, HEAD or PUT`);
  }

  function requestPath(url: string): string {
    const raw = url.split('?')[0];
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      throw new Refusal(400, 'the request path is not valid percent-encoding');
    }
    if (decoded === '/') return '';
    const rel = decoded.replace(/^\//, '');
    if (!isSafeRelativePath(rel) || rel.split('/').some((s) => s.startsWith('.'))) {
      throw new Refusal(400, `request path ${JSON.stringify(decoded)} is refused: it must stay inside the cache (no "..", no absolute or hidden paths)`);
    }
    return rel;
  }

  async function serveFile(rel: string, method: string, res: http.ServerResponse): Promise<void> {
    const file = rel === '' ? undefined : await cache.getFile(rel).catch(() => undefined);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(method === 'HEAD' ? undefined : `no such file: /${rel}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': contentType(rel), 'content-length': String(file.size) });
    if (method === 'HEAD') {
      file.body.destroy();
      res.end();
      return;
    }
    await pipeline(file.body, res);
  }

  async function list(res: http.ServerResponse): Promise<void> {
    const names = (await cache.listNarInfos()) ?? [];
    const entries = names.map((n) => `<D:response><D:href>/${n}</D:href></D:response>`).join('');
    const body = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:"><D:response><D:href>/</D:href></D:response>${entries}</D:multistatus>\n`;
    res.writeHead(207, { 'content-type': 'application/xml; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  function authorize(req: http.IncomingMessage): void {
    if (!opts.token) throw new Refusal(403, 'this cache server is read-only: it was started without --token-file');
    const header = req.headers.authorization ?? '';
    let given: string | undefined;
    if (header.startsWith('Bearer ')) given = header.slice(7).trim();
    else if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString();
      given = decoded.slice(decoded.indexOf(':') + 1);
    }
    const a = Buffer.from(given ?? '');
    const b = Buffer.from(opts.token);
    if (given === undefined || a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new Refusal(401, 'upload refused: a valid token is needed (Authorization: Bearer TOKEN, or basic auth with the token as password)');
    }
  }

  async function accept(rel: string, req: http.IncomingMessage): Promise<void> {
    const nar = NAR_FILE.exec(rel);
    const narinfo = NARINFO_FILE.exec(rel);
    if (!nar && !narinfo && rel !== 'nix-cache-info' && !rel.startsWith('log/')) {
      throw new Refusal(400, `/${rel} is not a binary cache file (nix-cache-info, <hash>.narinfo, nar/<filehash>.nar[.zst|.xz])`);
    }
    const max = nar ? MAX_NAR_FILE : MAX_NARINFO_BYTES;
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temp = path.join(path.dirname(target), `.upload-${randomBytes(6).toString('hex')}`);
    try {
      const sha = await receive(req, temp, max);
      if (nar && toNixBase32(sha) !== nar[1]) {
        throw new Refusal(422, `the uploaded file's sha256 is ${toNixBase32(sha)}, not the ${nar[1]} its name says`);
      }
      if (narinfo) await checkNarInfo(temp, narinfo[1]);
      if (rel === 'nix-cache-info') checkCacheInfo(temp);
      fs.renameSync(temp, target);
    } finally {
      fs.rmSync(temp, { force: true });
    }
  }

  async function receive(req: http.IncomingMessage, temp: string, max: number): Promise<Buffer> {
    const sha = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        size += chunk.length;
        if (size > max) return cb(new Refusal(413, `the upload is larger than ${max} bytes`));
        sha.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(req, tap, fs.createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    return sha.digest();
  }

  function storeDir(): string {
    try {
      return parseCacheInfo(fs.readFileSync(path.join(dir, 'nix-cache-info'), 'utf8')).storeDir;
    } catch {
      throw new Refusal(409, 'the cache has no nix-cache-info yet; upload it first (slime cache push and nix copy do)');
    }
  }

  function checkCacheInfo(temp: string): void {
    let info;
    try {
      info = parseCacheInfo(fs.readFileSync(temp, 'utf8'));
    } catch (e) {
      throw new Refusal(422, reasonOf(e));
    }
    const existing = path.join(dir, 'nix-cache-info');
    if (fs.existsSync(existing) && parseCacheInfo(fs.readFileSync(existing, 'utf8')).storeDir !== info.storeDir) {
      throw new Refusal(409, `this cache is for store dir ${storeDir()}, not ${info.storeDir}`);
    }
  }

  async function checkNarInfo(temp: string, hashPart: string): Promise<void> {
    const sDir = storeDir();
    let info;
    try {
      info = parseNarInfo(fs.readFileSync(temp, 'utf8'), sDir);
    } catch (e) {
      throw new Refusal(422, reasonOf(e));
    }
    if (!info.storePath.startsWith(`${sDir}/${hashPart}-`)) {
      throw new Refusal(422, `the narinfo describes ${info.storePath}, not a path ${sDir}/${hashPart}-* as its name says`);
    }
    if (trusted.length > 0 && trustedSigner(info.sigs, fingerprint(info), trusted) === undefined) {
      const names = info.sigs.map((sig) => sig.slice(0, Math.max(0, sig.indexOf(':')))).join(', ');
      throw new Refusal(
        422,
        `no valid signature by a key this server trusts (${trusted.map((k) => k.name).join(', ')}); ` +
          `${names ? `it is signed by ${names}` : 'it is not signed'}: push with --key`,
      );
    }
    if (!isSafeRelativePath(info.url) || !NAR_FILE.test(info.url)) throw new Refusal(422, `its URL ${JSON.stringify(info.url)} is not a NAR file of this cache`);
    if (!fs.existsSync(path.join(dir, info.url))) throw new Refusal(409, `its NAR ${info.url} is not in the cache; upload the NAR first`);
    try {
      for await (const _ of verifiedNar(cache, info)) void _;
    } catch (e) {
      throw new Refusal(422, `the narinfo does not match its NAR: ${reasonOf(e)}`);
    }
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bind, () => {
      const addr = server.address() as { port: number; address: string };
      const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${host}:${addr.port}`,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

function contentType(rel: string): string {
  if (rel.endsWith('.narinfo')) return 'text/x-nix-narinfo';
  if (rel === 'nix-cache-info') return 'text/x-nix-cache-info';
  return 'application/octet-stream';
}
