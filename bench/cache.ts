/**
 * Benchmark: slime's binary cache against `nix copy` on the CPython quick output
 * (a 321 MB NAR), side by side in one run, and substitution of the whole
 * full-x86_64-quick build against building it.
 *
 *   npm run build && node dist/bench/cache.js [--store DIR] [--path STORE-PATH] [--runs N] [--no-closure | --closure-only] [--keep]
 *
 * Needs root (a private mount namespace: `unshare -m` bind-mounts an empty directory
 * over the store dir, so slime can pull into an empty store with the same store dir
 * while the real store stays untouched), Debian's nix 2.8, nginx with its dav module,
 * and the path built in the store (default /work/slime-store-shared).
 *
 * Measured for each step: wall time and peak RSS of the process doing it (GNU time):
 *   push file://   slime cache push file://A P      |  nix copy --to file://B?compression=zstd
 *   pull file://   slime cache pull file://A P      |  nix copy --from file://A  (the same bytes)
 *   push http://   slime cache push http://nginx/s  |  nix copy --to http://nginx/n (netrc)
 *   pull http://   slime cache pull http://nginx/s  |  nix copy --from http://nginx/s
 *   substitution   slime realize full-x86_64-quick --substituters file://C into an empty store,
 *                  against the sum of the recorded build durations of its derivations.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../src/store/store.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const NIX = ['--extra-experimental-features', 'nix-command'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Measured {
  seconds: number;
  peakRssMb: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under GNU time; in a mount namespace with `hideStore` bind-mounted over the store dir if given. */
function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv, hide?: { empty: string; storeDir: string }): Promise<Measured> {
  const timeFile = path.join(os.tmpdir(), `slime-bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const inner = [cmd, ...args].map(shellQuote).join(' ');
  const script = hide ? `mount --bind ${shellQuote(hide.empty)} ${shellQuote(hide.storeDir)} && exec ${inner}` : `exec ${inner}`;
  const full = ['/usr/bin/time', '-f', '%e %M', '-o', timeFile, ...(hide ? ['unshare', '-m', 'sh', '-c', script] : ['sh', '-c', script])];
  return new Promise((resolve, reject) => {
    const child = spawn(full[0], full.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const [secs, rss] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ');
      fs.rmSync(timeFile, { force: true });
      if (code !== 0) reject(new Error(`${inner} failed (${code}):\n${stderr.slice(-3000)}`));
      else resolve({ seconds: Number(secs), peakRssMb: Number(rss) / 1024, stdout, stderr });
    });
  });
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-./:=@%+,]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startNginx(dir: string, root: string): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'htpasswd'), 'bench:{PLAIN}bench-pass\n');
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `worker_processes 2; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log; user root;
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
events { worker_connections 256; }
http {
  access_log off; sendfile on;
  client_body_temp_path ${dir}/nb; proxy_temp_path ${dir}/np; fastcgi_temp_path ${dir}/nf; uwsgi_temp_path ${dir}/nu; scgi_temp_path ${dir}/ns;
  client_max_body_size 0;
  server { listen 127.0.0.1:${port}; root ${root};
    location / { dav_methods PUT DELETE MKCOL; dav_ext_methods PROPFIND OPTIONS; create_full_put_path on; dav_access user:rw group:r all:r;
      limit_except GET HEAD PROPFIND OPTIONS { auth_basic "bench"; auth_basic_user_file ${dir}/htpasswd; } } } }
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => child.kill('SIGTERM') };
}

function ratio(slime: number, nix: number): string {
  return (slime / nix).toFixed(2);
}

async function main(): Promise<void> {
  const storeDir = arg('--store') ?? '/work/slime-store-shared';
  const store = new Store(storeDir);
  const target = store.validPaths().find((i) => i.path.endsWith('-cpython-3.11.2-quick'));
  const p = arg('--path') ?? target?.path;
  if (!p || !store.isValid(p)) throw new Error(`no valid CPython quick output in ${storeDir}; build it (slime realize cpython-quick --store ${storeDir}) or pass --path`);
  const narSize = store.queryInfo(p)!.narSize;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'slime-bench-cache-'));
  const empty = path.join(work, 'empty-store');
  const hide = { empty, storeDir };
  const resetEmpty = () => {
    spawnSync('chmod', ['-R', 'u+w', empty]);
    fs.rmSync(empty, { recursive: true, force: true });
    fs.mkdirSync(empty);
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NIX_STORE_DIR: storeDir,
    NIX_STATE_DIR: path.join(work, 'nixstate'),
    NIX_LOG_DIR: path.join(work, 'nixlog'),
    NIX_CONF_DIR: path.join(work, 'nixconf'),
    NIX_CONFIG: 'build-users-group =',
    XDG_CACHE_HOME: path.join(work, 'xdgcache'),
    NETRC: path.join(work, 'netrc'),
    SLIME_CACHE_TIMEOUT: '120',
  };
  fs.mkdirSync(env.NIX_CONF_DIR!, { recursive: true });
  const key = path.join(work, 'bench-1');
  spawnSync(process.execPath, [CLI, 'key', 'generate', 'bench-1', '--dir', work]);
  const pub = fs.readFileSync(`${key}.pub`, 'utf8').trim();
  const trust = ['--option', 'trusted-public-keys', pub];
  const webroot = path.join(work, 'www');
  fs.mkdirSync(webroot);
  const nginx = await startNginx(work, webroot);
  fs.writeFileSync(env.NETRC!, `machine 127.0.0.1 login bench password bench-pass\n`);
  const http = `http://127.0.0.1:${nginx.port}`;
  const runs = Number(arg('--runs') ?? 3);
  const steps = ['push file://', 'pull file://', 'push http://', 'pull http://'];
  const results = new Map<string, { slime: Measured[]; nix: Measured[] }>(steps.map((s) => [s, { slime: [], nix: [] }]));
  const record = (step: string, who: 'slime' | 'nix', m: Measured) => {
    results.get(step)![who].push(m);
    log(`${who} ${step} ${m.seconds.toFixed(2)} s, peak RSS ${m.peakRssMb.toFixed(0)} MB`);
  };
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`bench: ${p} (${(narSize / 1e6).toFixed(1)} MB NAR), ${runs} runs, work dir ${work}`);
  const slimeCli = (...a: string[]) => [CLI, ...a];
  try {
    const closureOnly = process.argv.includes('--closure-only');
    // Setup, not timed: the cache both tools pull from, and a Nix store holding the path for Nix's pushes.
    if (!closureOnly) await measure(process.execPath, slimeCli('cache', 'push', `file://${work}/pull-from`, p, '--store', storeDir, '--key', `${key}.sec`), env);
    if (!closureOnly) await measure(process.execPath, slimeCli('cache', 'push', `${http}/pull-from`, p, '--store', storeDir, '--key', `${key}.sec`), env);
    if (!closureOnly) await measure('nix', [...NIX, 'copy', '--from', `file://${work}/pull-from`, '--to', `local?root=${work}/nixroot`, ...trust, p], env);
    for (let i = 0; i < (closureOnly ? 0 : runs); i++) {
      // Each run alternates the tools step by step, so that a change in the machine's load hits both.
      record('push file://', 'slime', await measure(process.execPath, slimeCli('cache', 'push', `file://${work}/slime-push-${i}`, p, '--store', storeDir, '--key', `${key}.sec`), env));
      record('push file://', 'nix', await measure('nix', [...NIX, 'copy', '--from', `local?root=${work}/nixroot`, '--to', `file://${work}/nix-push-${i}?compression=zstd&secret-key=${key}.sec`, p], env));
      resetEmpty();
      record('pull file://', 'slime', await measure(process.execPath, slimeCli('cache', 'pull', `file://${work}/pull-from`, p, '--store', storeDir, '--trusted-public-keys', pub), env, hide));
      record('pull file://', 'nix', await measure('nix', [...NIX, 'copy', '--from', `file://${work}/pull-from`, '--to', `local?root=${work}/nixroot-file-${i}`, ...trust, p], env));
      record('push http://', 'slime', await measure(process.execPath, slimeCli('cache', 'push', `${http}/slime-push-${i}`, p, '--store', storeDir, '--key', `${key}.sec`), env));
      record(
        'push http://',
        'nix',
        await measure('nix', [...NIX, 'copy', '--option', 'netrc-file', env.NETRC!, '--from', `local?root=${work}/nixroot`, '--to', `${http}/nix-push-${i}?compression=zstd&secret-key=${key}.sec`, p], env),
      );
      resetEmpty();
      record('pull http://', 'slime', await measure(process.execPath, slimeCli('cache', 'pull', `${http}/pull-from`, p, '--store', storeDir, '--trusted-public-keys', pub), env, hide));
      record('pull http://', 'nix', await measure('nix', [...NIX, 'copy', '--from', `${http}/pull-from`, '--to', `local?root=${work}/nixroot-http-${i}`, ...trust, p], env));
      for (const d of [`${work}/nixroot-file-${i}`, `${work}/nixroot-http-${i}`, `${work}/slime-push-${i}`, `${work}/nix-push-${i}`, `${webroot}/slime-push-${i}`, `${webroot}/nix-push-${i}`]) {
        spawnSync('chmod', ['-R', 'u+w', d]);
        fs.rmSync(d, { recursive: true, force: true });
      }
    }
    if (!closureOnly) report();
    if (!process.argv.includes('--no-closure')) await closure(storeDir, store, work, env, key, pub, hide, resetEmpty, log);
  } finally {
    nginx.stop();
    if (!process.argv.includes('--keep')) {
      spawnSync('chmod', ['-R', 'u+w', work]);
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  function report(): void {
    const median = (ms: Measured[], f: (m: Measured) => number) => ms.map(f).sort((a, b) => a - b)[Math.floor(ms.length / 2)];
    process.stdout.write(`\nCPython quick output: ${(narSize / 1e6).toFixed(1)} MB NAR, zstd; median of ${runs} alternating runs (load average at the end: ${os.loadavg()[0].toFixed(1)})\n`);
    process.stdout.write(`${'step'.padEnd(14)} ${'slime s'.padStart(8)} ${'nix s'.padStart(8)} ${'slime/nix'.padStart(9)} ${'slime RSS MB'.padStart(12)} ${'nix RSS MB'.padStart(10)}  all runs (slime | nix)\n`);
    for (const step of steps) {
      const r = results.get(step)!;
      const [s, n] = [median(r.slime, (m) => m.seconds), median(r.nix, (m) => m.seconds)];
      process.stdout.write(
        `${step.padEnd(14)} ${s.toFixed(2).padStart(8)} ${n.toFixed(2).padStart(8)} ${ratio(s, n).padStart(9)} ` +
          `${Math.max(...r.slime.map((m) => m.peakRssMb)).toFixed(0).padStart(12)} ${Math.max(...r.nix.map((m) => m.peakRssMb)).toFixed(0).padStart(10)}  ` +
          `${r.slime.map((m) => m.seconds.toFixed(1)).join(' ')} | ${r.nix.map((m) => m.seconds.toFixed(1)).join(' ')}\n`,
      );
    }

  }
}

/** The whole full-x86_64-quick build from a cache into an empty store, against its recorded build time. */
async function closure(
  storeDir: string,
  store: Store,
  work: string,
  env: NodeJS.ProcessEnv,
  key: string,
  pub: string,
  hide: { empty: string; storeDir: string },
  resetEmpty: () => void,
  log: (s: string) => void,
): Promise<void> {
  const t = 'full-x86_64-quick';
  const push = await measure(process.execPath, [CLI, 'cache', 'push', `file://${work}/closure-cache`, t, '--store', storeDir, '--key', `${key}.sec`], env);
  log(`slime push ${t} closure: ${push.seconds} s`);
  resetEmpty();
  const sub = await measure(
    process.execPath,
    [CLI, 'realize', t, '--store', storeDir, '--no-link', '--log-format', 'json', '--substituters', `file://${work}/closure-cache`, '--trusted-public-keys', pub],
    env,
    hide,
  );
  const events = sub.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string; drvPath?: string });
  const planned = events.find((e) => e.type === 'planned') as unknown as { derivations: { name: string }[] };
  const names = planned.derivations.map((d) => d.name);
  let buildMs = 0;
  const missing: string[] = [];
  for (const n of names) {
    const d = store.expectedDuration(n);
    if (d === undefined) missing.push(n);
    else buildMs += d;
  }
  const count = (type: string) => events.filter((e) => e.type === type).length;
  const finished = events.find((e) => e.type === 'finished') as unknown as { wallMs: number };
  const substitutingMs = events.filter((e) => e.type === 'substituted').reduce((a, e) => a + (e as unknown as { durationMs: number }).durationMs, 0);
  process.stdout.write(
    `\n${t}: ${names.length} derivations; substituted ${count('substituted')}, built ${count('built')}, cached ${count('cached')}\n` +
      `  slime realize, whole process (evaluation and host tool hashing in an empty store included): ${sub.seconds.toFixed(2)} s, peak RSS ${sub.peakRssMb.toFixed(0)} MB\n` +
      `  the run itself (planned -> finished): ${(finished.wallMs / 1000).toFixed(2)} s; substitutions alone: ${(substitutingMs / 1000).toFixed(2)} s\n` +
      `  recorded build durations (median per derivation, summed): ${(buildMs / 1000).toFixed(1)} s${missing.length ? ` (no record for ${missing.join(', ')})` : ''}\n` +
      `  build / substitution: ${(buildMs / 1000 / sub.seconds).toFixed(1)}x (whole process), ${(buildMs / finished.wallMs).toFixed(1)}x (the run)\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`bench/cache: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
