import fs from 'node:fs';
import path from 'node:path';
import { SlimeError, UsageError } from '../../errors.js';
import { openCache, readReachableCacheInfo, CacheError } from '../../cache/binary-cache.js';
import { DEFAULT_PRIORITY, parseCacheInfo } from '../../cache/cache-info.js';
import { WRITABLE_COMPRESSIONS, type WritableCompression } from '../../cache/compression.js';
import { narInfoFileFor } from '../../cache/narinfo.js';
import { pushPaths } from '../../cache/push.js';
import { substitutionSettings } from '../../cache/settings.js';
import { parsePublicKey, parseSecretKey } from '../../cache/signing.js';
import { verifyCache } from '../../cache/verify-cache.js';
import { Substituter } from '../../cache/substituter.js';
import { resolveTarget } from '../../derivation/load.js';
import { planGraph, writeDrvFiles } from '../../scheduler/plan.js';
import { acquireLock, startLockHelper } from '../../store/lock.js';
import { isHashPart, isStorePathIn } from '../../store/paths.js';
import type { Store } from '../../store/store.js';
import type { CliContext, Command } from '../command.js';
import { gatherListArgs } from '../substitution-options.js';
import { COMMON_HELP, commonOptions, openModule, openStore, openStoreAfter, parseCommandArgs, positiveInt } from '../options.js';

const help = `Usage: slime cache SUBCOMMAND ...

A binary cache in Nix's format (nix-cache-info, <hash>.narinfo, nar/*.nar.zst),
readable and writable by Nix too. URL is file:///dir or http(s)://host/path.

  push URL TARGET|STORE-PATH... [--key FILE] [--compression zstd|xz|none] [-j N] [--derivations|--only-derivations]
        uploads the outputs of TARGET and of every derivation its build needs (or the
        STORE-PATHs), with their whole closure,
        signed with the secret key FILE (default: $SLIME_SECRET_KEY_FILE); paths the
        cache has are skipped. --derivations pushes the .drv files too.
        --only-derivations pushes the targets' .drv files and their closure (input
        .drv files, sources) and no output, built or not, and prints the targets'
        .drv paths: what another machine needs to build them (nix-store --realise;
        see docs/architecture.md, "Building elsewhere"). HTTP uploads use
        PUT with the credentials for the host in ~/.netrc ($NETRC), or the bearer token
        in $SLIME_CACHE_TOKEN.
  serve DIR [--port P] [--bind ADDR] [--token-file F] [--trusted-public-keys KEY...]
        serves DIR as a binary cache over HTTP (default 127.0.0.1:5080): GET for anyone,
        PUT only with the token in F; an upload becomes visible once checked (NAR hash
        and size; with KEYs, also a valid signature by one of them).
  pull URL STORE-PATH... [--trusted-public-keys KEY...]
        substitutes the STORE-PATHs (and their references) from URL into the store,
        checked as \`slime realize\` checks them (as \`nix copy --from URL\`).
  info URL
        is it reachable, which store dir and priority, how many paths.
  verify URL [PATH...] [--trusted-public-keys KEY...] [-j N]
        downloads each narinfo and NAR (all, or the PATHs) and checks signature,
        FileHash/FileSize and NarHash/NarSize.

${COMMON_HELP}`;

const options = {
  ...commonOptions,
  key: { type: 'string' },
  compression: { type: 'string' },
  jobs: { type: 'string', short: 'j' },
  derivations: { type: 'boolean' },
  'only-derivations': { type: 'boolean' },
  port: { type: 'string' },
  bind: { type: 'string' },
  'token-file': { type: 'string' },
  'trusted-public-keys': { type: 'string', multiple: true },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof options>>['values'];

async function run(args: string[], ctx: CliContext): Promise<number> {
  const { values, positionals } = parseCommandArgs('cache', gatherListArgs(args), options);
  const [sub, ...rest] = positionals;
  switch (sub) {
    case 'push':
      return push(rest, values, ctx);
    case 'serve':
      return serve(rest, values, ctx);
    case 'pull':
      return pull(rest, values, ctx);
    case 'info':
      return info(rest, ctx);
    case 'verify':
      return verify(rest, values, ctx);
    default:
      throw new UsageError(
        sub === undefined
          ? 'slime cache needs a subcommand: push, pull, serve, info or verify (see `slime cache --help`)'
          : `unknown subcommand "cache ${sub}"; use push, pull, serve, info or verify (see \`slime cache --help\`)`,
      );
  }
}

async function push(rest: string[], values: Values, ctx: CliContext): Promise<number> {
  const [url, ...what] = rest;
  if (!url || what.length === 0) throw new UsageError('slime cache push needs a URL and at least one TARGET or STORE-PATH');
  const compression = (values.compression ?? 'zstd') as WritableCompression;
  if (!WRITABLE_COMPRESSIONS.includes(compression)) throw new UsageError(`--compression must be zstd, xz or none, not "${values.compression}"`);
  const jobs = positiveInt('--jobs', values.jobs, 4);
  const keyFile = values.key ?? ctx.env.SLIME_SECRET_KEY_FILE;
  const key = keyFile === undefined ? undefined : parseSecretKey(readKeyFile(keyFile), `secret key file ${keyFile}`);
  const store = openStore(ctx, values.store);
  // The .drv files written for --only-derivations are not rooted: a gc waits until they are pushed.
  const gcLock = values['only-derivations'] ? await acquireLock(store.globalLockFile, { shared: true }) : undefined;
  let s: Awaited<ReturnType<typeof pushPaths>>;
  let cache: Awaited<ReturnType<typeof openCache>>;
  let started: number;
  try {
    const { paths, drvPaths } = await pathsToPush(what, values, ctx, store);
    cache = await openCache(url, ctx.env);
    if (!key) ctx.stderr.write('warning: pushing without --key: substituters that check signatures (slime, Nix) will not trust these paths\n');
    const to = cache;
    started = Date.now();
    s = await pushPaths({ store, cache, paths, compression, key, jobs, log: (l) => ctx.stderr.write(`${l}\n`) }).catch((e: Error) => {
      // A failure of the cache itself names the cache; the upload stopped, and what is there stays consistent.
      if (e instanceof CacheError) throw new SlimeError(`push to ${to.url} failed: ${e.message}`);
      throw e;
    });
    for (const d of drvPaths) ctx.stdout.write(`${d}\n`);
  } finally {
    await gcLock?.release();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  ctx.stderr.write(
    `pushed ${s.pushed} path(s) to ${cache.url} (${(s.narBytes / 1e6).toFixed(1)} MB of NAR as ${(s.fileBytes / 1e6).toFixed(1)} MB ${compression}), ` +
      `${s.alreadyThere} already there, in ${secs} s\n`,
  );
  return 0;
}

function readKeyFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SlimeError(`cannot read the secret key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; make one with \`slime key generate NAME\``);
  }
}

/**
 * Store paths as given, and targets' outputs (with --derivations, their .drv files);
 * with --only-derivations the targets' .drv files alone (written into the store if
 * missing), and those of the targets themselves as `drvPaths`.
 */
async function pathsToPush(what: string[], values: Values, ctx: CliContext, store: Store): Promise<{ paths: string[]; drvPaths: string[] }> {
  const paths: string[] = [];
  const drvPaths: string[] = [];
  const targets = what.filter((w) => !w.startsWith('/'));
  for (const w of what.filter((x) => x.startsWith('/'))) {
    const p = w.replace(/\/+$/, '');
    if (!isStorePathIn(store.dir, p)) throw new UsageError(`${w} is not a path in the store ${store.dir}; pass a store path or a target name`);
    paths.push(p);
  }
  if (targets.length > 0) {
    const mod = await openModule(ctx, store, values.file);
    for (const t of targets) {
      const roots = resolveTarget(mod, t).derivations;
      if (values['only-derivations']) {
        // The closure of each .drv (input .drv files, sources) goes with it, as its references.
        const nodes = planGraph(roots);
        await writeDrvFiles(nodes, store);
        for (const d of roots) {
          paths.push(d.drvPath);
          drvPaths.push(d.drvPath);
        }
        continue;
      }
      for (const d of roots) {
        for (const out of Object.values(d.outputs)) {
          if (!store.isValid(out)) throw new SlimeError(`cannot push ${t}: its output ${out} is not built; run \`slime realize ${t}\` first`);
        }
      }
      // Every output the target's build needed goes too, so that a fresh store substitutes the whole build.
      let absent = 0;
      for (const n of planGraph(roots)) {
        for (const out of Object.values(n.outputs)) {
          if (store.isValid(out)) paths.push(out);
          else absent++;
        }
        if (values.derivations) {
          if (store.isValid(n.drvPath)) paths.push(n.drvPath);
          else absent++;
        }
      }
      if (absent > 0) ctx.stderr.write(`note: ${absent} path(s) of ${t}'s build are not in the store (collected?) and are not pushed\n`);
    }
  }
  return { paths, drvPaths };
}

async function serve(rest: string[], values: Values, ctx: CliContext): Promise<number> {
  const [dir, ...extra] = rest;
  if (!dir || extra.length) throw new UsageError('slime cache serve takes one DIR');
  const port = values.port === undefined ? 5080 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, not "${values.port}"`);
  let token: string | undefined;
  if (values['token-file'] !== undefined) {
    try {
      token = fs.readFileSync(values['token-file'], 'utf8').trim();
    } catch (e) {
      throw new SlimeError(`cannot read the token file ${values['token-file']}: ${(e as NodeJS.ErrnoException).code}; write the token in it first`);
    }
    if (token.length < 16) throw new SlimeError(`the token in ${values['token-file']} is shorter than 16 characters; use a long random one (e.g. openssl rand -hex 32)`);
  }
  const trustedKeys = (values['trusted-public-keys'] ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);
  for (const k of trustedKeys) parsePublicKey(k);
  const served = path.resolve(process.cwd(), dir);
  const kind = fs.statSync(served, { throwIfNoEntry: false });
  if (kind && !kind.isDirectory()) throw new SlimeError(`cannot serve ${served}: it is a file, not a directory; pass the cache's directory`);
  if (token) {
    try {
      fs.mkdirSync(path.join(served, 'nar'), { recursive: true });
    } catch (e) {
      throw new SlimeError(`cannot create the cache directory ${served}: ${(e as NodeJS.ErrnoException).code}; pass a directory this user can write`);
    }
  } else if (!fs.existsSync(path.join(served, 'nix-cache-info'))) {
    // Not refused: a directory served read-only can be filled by `slime cache push file://DIR` on this machine.
    ctx.stderr.write(
      `warning: ${served} ${kind ? 'has no nix-cache-info' : 'does not exist'} yet, so it is not a binary cache: clients get 404 until one is pushed into it (slime cache push file://${served} TARGET), or serve it with --token-file to take uploads\n`,
    );
  }
  const { startCacheServer } = await import('../../cache/server.js');
  const server = await startCacheServer({
    dir: served,
    port,
    bind: values.bind ?? '127.0.0.1',
    token,
    trustedKeys,
    log: (l) => ctx.stderr.write(`${l}\n`),
  }).catch((e: NodeJS.ErrnoException) => {
    throw new SlimeError(`cannot listen on ${values.bind ?? '127.0.0.1'}:${port}: ${e.code ?? e.message}; choose another --port or --bind`);
  });
  ctx.stderr.write(`serving ${served} at ${server.url} (${token ? 'PUT with the token' : 'read-only'}); Ctrl-C stops\n`);
  ctx.stdout.write(`${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return 0;
}

async function pull(rest: string[], values: Values, ctx: CliContext): Promise<number> {
  const [url, ...paths] = rest;
  if (!url || paths.length === 0) throw new UsageError('slime cache pull needs a URL and at least one STORE-PATH');
  const storePaths = paths.map((p) => p.replace(/\/+$/, ''));
  // Checked before a new store is made: a wrong argument leaves no empty store behind.
  const { store } = await openStoreAfter(ctx, values.store, async (s) =>
    storePaths.forEach((p, i) => {
      if (!isStorePathIn(s.dir, p)) throw new UsageError(`${paths[i]} is not a path in the store ${s.dir}`);
    }),
  );
  // Each path is locked before it is written; a path already valid needs no lock.
  if (storePaths.some((p) => !store.isValid(p))) startLockHelper();
  const settings = substitutionSettings({ trustedPublicKeys: values['trusted-public-keys'] }, ctx.cwd, ctx.env);
  const substituter = new Substituter(store, [url], settings.trustedPublicKeys, ctx.env);
  let failed = 0;
  for (const p of storePaths) {
    const started = Date.now();
    const from = await substituter.substituteOutputs([p], {
      drvPath: p,
      warn: (cache, path, reason) => ctx.stderr.write(`warning: cache ${cache}${path ? ` (${path})` : ''}: ${reason}\n`),
    });
    if (from === undefined) {
      ctx.stderr.write(`error: ${p} could not be substituted from ${url}\n`);
      failed++;
    } else ctx.stderr.write(`copied ${p} from ${from} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return failed > 0 ? 1 : 0;
}

async function info(rest: string[], ctx: CliContext): Promise<number> {
  const [url, ...extra] = rest;
  if (!url || extra.length) throw new UsageError('slime cache info takes one URL');
  const cache = await openCache(url, ctx.env);
  const text = await readReachableCacheInfo(cache);
  if (text === undefined) throw new SlimeError(`${cache.url} has no nix-cache-info: it is not a binary cache (or not yet: push to it first)`);
  const ci = parseCacheInfo(text);
  const names = await cache.listNarInfos().catch(() => undefined);
  ctx.stdout.write(
    `URL: ${cache.url}\nReachable: yes\nStoreDir: ${ci.storeDir}\nPriority: ${ci.priority ?? `${DEFAULT_PRIORITY} (default)`}\n` +
      `WantMassQuery: ${ci.wantMassQuery === undefined ? 'unset' : ci.wantMassQuery ? 1 : 0}\n` +
      `Paths: ${names === undefined ? 'unknown (the server cannot list)' : names.length}\n`,
  );
  return 0;
}

async function verify(rest: string[], values: Values, ctx: CliContext): Promise<number> {
  const [url, ...paths] = rest;
  if (!url) throw new UsageError('slime cache verify needs a URL');
  const cache = await openCache(url, ctx.env);
  const text = await readReachableCacheInfo(cache);
  if (text === undefined) throw new SlimeError(`${cache.url} has no nix-cache-info: it is not a binary cache`);
  const storeDir = parseCacheInfo(text).storeDir;
  const settings = substitutionSettings({ trustedPublicKeys: values['trusted-public-keys'] }, ctx.cwd, ctx.env);
  const trusted = settings.trustedPublicKeys.map(parsePublicKey);
  let files: string[];
  if (paths.length > 0) {
    files = paths.map((p) => {
      if (isHashPart(p)) return `${p}.narinfo`;
      if (isStorePathIn(storeDir, p)) return narInfoFileFor(p);
      throw new UsageError(`"${p}" is neither a store path of ${cache.url} (whose store dir is ${storeDir}) nor a 32-character hash part; name a path as ${storeDir}/<hash>-<name>`);
    });
  } else {
    const listed = await cache.listNarInfos();
    if (listed === undefined) throw new CacheError(`${cache.url} cannot be listed (no WebDAV PROPFIND); name the PATHs to verify`);
    files = listed;
  }
  if (trusted.length === 0) ctx.stderr.write('warning: no trusted public keys given: signatures are not checked (--trusted-public-keys)\n');
  const results = await verifyCache(cache, storeDir, files, trusted, positiveInt('--jobs', values.jobs, 4), (r) => {
    const what = r.storePath ?? r.narInfo;
    ctx.stderr.write(r.problem ? `FAIL ${what}: ${r.problem}\n` : `ok   ${what}${r.signer ? ` (signed by ${r.signer})` : ''}\n`);
  });
  const bad = results.filter((r) => r.problem).length;
  ctx.stderr.write(`${results.length - bad} of ${results.length} path(s) verified in ${cache.url}${bad ? `; ${bad} failed` : ''}\n`);
  return bad ? 1 : 0;
}

const command: Command = { summary: 'push to, serve, inspect and verify binary caches (Nix format)', help, run };
export default command;
