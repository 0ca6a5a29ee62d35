/**
 * The binary cache against `nix copy`, side by side in one run, on the CPython quick
 * output (a 321 MB NAR); and substitution of the whole full-x86_64-quick closure into
 * an empty store against building it.
 *
 *   npm run bench -- --only cache            (or: node dist/bench/cache.js [--quick])
 *
 * The store: benchStoreDir() (SLIME_BENCH_STORE, else slime's own default store), holding
 * the realized full-x86_64-quick. Needs root (a private mount namespace: `unshare -m`
 * bind-mounts an empty directory over the store dir, so slime pulls into an empty
 * store with the same store dir while the real one stays untouched), Debian's nix 2.8
 * and nginx with its dav module. Without them the benchmark says what is missing and
 * measures nothing. SLIME_BENCH_CACHE_PART=transfer or =closure runs one half only;
 * SLIME_BENCH_CACHE_TARGET names another target (or derivation) for the closure;
 * SLIME_BENCH_DURATIONS_STORE, another store to read build durations from (where the
 * closure was built, when the bench store got it by substitution).
 *
 * SLIME_BENCH_CACHE_BUILD=1 (opt-in: it takes minutes, a CPython build) builds the
 * closure in this run: `slime realize TARGET --no-substitute` into an empty store with
 * the bench store's dir (evaluation and the source fetch included, as substitution
 * includes evaluation), pushes what it built, and substitutes that into empty stores:
 * the ratio of the substitution to the build, both measured here. Without it the
 * build side is the recorded build durations.
 *
 * Every timed run writes into a directory of its own that nothing was deleted from just
 * before: on this machine's root file system (ext4 without a journal) the kernel, for
 * every new inode, skips the inodes freed in the last minute or more one by one
 * (recently_deleted() in ext4's ialloc.c), so creating a tree right after deleting one
 * of the same size costs several times more system time, whatever tool writes it.
 * Everything is deleted at the end; one extra closure run right after a deletion shows
 * that cost on its own.
 *
 * Figures (medians of alternating rounds, slime first):
 *   push file://   slime cache push file://A P        | nix copy --to file://B?compression=zstd (from a Nix store holding P)
 *   pull file://   slime cache pull file://C P        | nix copy --from file://C (the same bytes, slime's cache)
 *   pull file:// into memory (tmpfs)   the same, with a tmpfs over slime's store dir and over Nix's root:
 *                  the tools' own cost without the disk (informational, no target)
 *   push http://   slime cache push http://nginx/A P  | nix copy --to http://nginx/B (netrc), nginx WebDAV on loopback
 *   pull http://   slime cache pull http://nginx/C P  | nix copy --from http://nginx/C
 *   pull http:// into memory (tmpfs)   the same, the store in memory (informational, as for file://)
 *   floor          the CPython quick tree written by slime nar restore, nix-store --restore, cp -a and
 *                  tar -x (the file system's own cost for the same files); zstd -d and sha256sum of its NAR alone
 *   closure        slime realize full-x86_64-quick --substituters file://D into an empty store (whole process:
 *                  evaluation included: its plan is in the user's evaluation cache, as after any earlier
 *                  run of this checkout; once more with SLIME_EVAL_CACHE=0, evaluating in the process),
 *                  against nix copy --from file://D of the paths it substituted (the targets' runtime
 *                  closure: like nix-build, slime fetches no build-only input) into an empty Nix store,
 *                  against cp -a of the same output trees (the floor), and against building it (all 7):
 *                  with SLIME_BENCH_CACHE_BUILD=1 a build into an empty store in this run, else the recorded
 *                  build durations of those very outputs (the note lists each duration with the time it was
 *                  recorded; a duration depends on the load at that time).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../src/store/store.js';
import { benchStoreDir, CLI, measure, median, newestValidPath, removeTree, ROOT, tempDir, type Benchmark, type Figure, type Measured } from './lib.js';

const NIX = ['--extra-experimental-features', 'nix-command'];
// SLIME_BENCH_CACHE_TARGET: another target or derivation name whose closure the store holds.
const TARGET = process.env.SLIME_BENCH_CACHE_TARGET ?? 'full-x86_64-quick';

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
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => (s.end(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop: () => child.kill('SIGTERM') };
}

const q = (s: string): string => (/^[A-Za-z0-9_\-./:=@%+,]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** What the benchmark cannot run without, or undefined. */
function missing(storeDir: string): string | undefined {
  if (process.getuid?.() !== 0 || spawnSync('unshare', ['-m', 'true']).status !== 0) return 'root and unshare -m (an empty store mounted over the store dir)';
  if (spawnSync('nix', ['--version']).status !== 0) return "Debian's nix (nix copy is the reference)";
  if (!fs.existsSync('/usr/lib/nginx/modules/ngx_http_dav_ext_module.so')) return 'nginx with its dav module (nginx-light, libnginx-mod-http-dav-ext)';
  if (!fs.existsSync(path.join(storeDir, '.slime', 'db.sqlite'))) return `a store at ${storeDir} (set SLIME_BENCH_STORE)`;
  return undefined;
}

export const cacheBenchmark: Benchmark = {
  name: 'cache',
  description: 'binary cache push/pull vs nix copy (file://, http:// nginx) on the CPython quick NAR; full-x86_64-quick substituted vs built',
  async run({ quick, log }) {
    const storeDir = benchStoreDir();
    const lack = missing(storeDir);
    if (lack) {
      log(`cache: needs ${lack}; nothing measured`);
      return [];
    }
    const store = new Store(storeDir);
    const p = newestValidPath(store, 'cpython-3.11.2-quick');
    if (!p) {
      log(`cache: no CPython quick output is valid in ${storeDir} (slime realize ${TARGET} --store ${storeDir}); nothing measured`);
      return [];
    }
    const narSize = store.queryInfo(p)!.narSize;
    const rounds = quick ? 1 : 3;
    // A pull or push takes a second or two, and on this shared machine one round of either tool
    // can take twice another: five alternating rounds each, so that one slow round moves no median.
    const transferRounds = quick ? 1 : 5;
    const work = tempDir('slime-bench-cache-');
    let fresh = 0;
    /** A new empty directory: no timed run writes where something was just deleted. */
    const freshDir = (name: string): string => {
      const d = path.join(work, 'runs', `${name}-${++fresh}`);
      fs.mkdirSync(d, { recursive: true });
      return d;
    };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CI: '1',
      NIX_STORE_DIR: storeDir,
      NIX_STATE_DIR: path.join(work, 'nixstate'),
      NIX_LOG_DIR: path.join(work, 'nixlog'),
      NIX_CONF_DIR: path.join(work, 'nixconf'),
      NIX_CONFIG: 'build-users-group =',
      XDG_CACHE_HOME: path.join(work, 'xdgcache'),
      NETRC: path.join(work, 'netrc'),
      SLIME_CACHE_TIMEOUT: '300',
    };
    fs.mkdirSync(env.NIX_CONF_DIR!, { recursive: true });
    const run = (cmd: string, args: string[]): Measured => measure(cmd, args, { env, cwd: ROOT });
    const slime = (...args: string[]): Measured => run(CLI, args);
    /** slime in a mount namespace where `mount` (a mount command lacking its target) covers the store dir. */
    const inMountedStore = (mount: string, envPrefix: string, args: string[]): Measured =>
      run('unshare', ['-m', 'sh', '-c', `${mount} ${q(storeDir)} && ${envPrefix}exec ${[CLI, ...args].map(q).join(' ')}`]);
    /** slime in a mount namespace where the store dir is `empty`, a new empty directory. */
    const inEmptyStore = (envPrefix: string, empty: string, args: string[]): Measured => inMountedStore(`mount --bind ${q(empty)}`, envPrefix, args);
    const slimeInEmptyStore = (empty: string, ...args: string[]): Measured => inEmptyStore('', empty, args);
    // The same pulls with the store in memory (a tmpfs over the store dir, and over Nix's root): the
    // tools' own cost, without this machine's disk, whose cost for the same files varies several-fold.
    const TMPFS = 'mount -t tmpfs -o size=2g slime-bench';
    const slimeInTmpfsStore = (...args: string[]): Measured => inMountedStore(TMPFS, '', args);
    const nixIntoTmpfs = (root: string, ...args: string[]): Measured =>
      run('unshare', ['-m', 'sh', '-c', `${TMPFS} ${q(root)} && exec ${['nix', ...NIX, ...args, '--to', `local?root=${root}`].map(q).join(' ')}`]);
    /** The same without the evaluation cache: the module evaluated in the process, as on a machine that never evaluated it. */
    const slimeInEmptyStoreEvaluating = (empty: string, ...args: string[]): Measured => inEmptyStore('SLIME_EVAL_CACHE=0 ', empty, args);
    const nix = (...args: string[]): Measured => run('nix', [...NIX, ...args]);

    slime('key', 'generate', 'bench-1', '--dir', work);
    const key = path.join(work, 'bench-1.sec');
    const pub = fs.readFileSync(path.join(work, 'bench-1.pub'), 'utf8').trim();
    const trust = ['--option', 'trusted-public-keys', pub];
    const webroot = path.join(work, 'www');
    fs.mkdirSync(webroot);
    const nginx = await startNginx(work, webroot);
    fs.writeFileSync(env.NETRC!, 'machine 127.0.0.1 login bench password bench-pass\n');
    const http = `http://127.0.0.1:${nginx.port}`;
    const figures: Figure[] = [];
    try {
      log(`cache: ${p} (${(narSize / 1e6).toFixed(1)} MB NAR), ${transferRounds} round(s) of each transfer, load ${os.loadavg()[0].toFixed(1)}`);
      // Not timed: the caches both tools pull from, and a Nix store holding the path for Nix's pushes.
      const part = process.env.SLIME_BENCH_CACHE_PART;
      if (part !== 'closure') {
        slime('cache', 'push', `file://${work}/pull-from`, p, '--store', storeDir, '--key', key);
        slime('cache', 'push', `${http}/pull-from`, p, '--store', storeDir, '--key', key);
        nix('copy', '--from', `file://${work}/pull-from`, '--to', `local?root=${work}/nixroot`, ...trust, p);
      }
      const steps: [string, () => Measured, () => Measured, number | undefined][] = [
        [
          'push file://',
          () => slime('cache', 'push', `file://${work}/s-push`, p, '--store', storeDir, '--key', key),
          () => nix('copy', '--from', `local?root=${work}/nixroot`, '--to', `file://${work}/n-push?compression=zstd&secret-key=${key}`, p),
          undefined,
        ],
        [
          'pull file://',
          () => slimeInEmptyStore(freshDir('s-pull'), 'cache', 'pull', `file://${work}/pull-from`, p, '--store', storeDir, '--trusted-public-keys', pub),
          () => nix('copy', '--from', `file://${work}/pull-from`, '--to', `local?root=${freshDir('n-pull')}`, ...trust, p),
          1,
        ],
        [
          'pull file:// into memory (tmpfs)',
          () => slimeInTmpfsStore('cache', 'pull', `file://${work}/pull-from`, p, '--store', storeDir, '--trusted-public-keys', pub),
          () => nixIntoTmpfs(freshDir('n-pull-tmpfs'), 'copy', '--from', `file://${work}/pull-from`, ...trust, p),
          undefined,
        ],
        [
          'push http://',
          () => slime('cache', 'push', `${http}/s-push`, p, '--store', storeDir, '--key', key),
          () =>
            nix('copy', '--option', 'netrc-file', env.NETRC!, '--from', `local?root=${work}/nixroot`, '--to', `${http}/n-push?compression=zstd&secret-key=${key}`, p),
          1,
        ],
        [
          'pull http://',
          () => slimeInEmptyStore(freshDir('s-pull'), 'cache', 'pull', `${http}/pull-from`, p, '--store', storeDir, '--trusted-public-keys', pub),
          () => nix('copy', '--from', `${http}/pull-from`, '--to', `local?root=${freshDir('n-pull')}`, ...trust, p),
          1,
        ],
        [
          'pull http:// into memory (tmpfs)',
          () => slimeInTmpfsStore('cache', 'pull', `${http}/pull-from`, p, '--store', storeDir, '--trusted-public-keys', pub),
          () => nixIntoTmpfs(freshDir('n-pull-tmpfs'), 'copy', '--from', `${http}/pull-from`, ...trust, p),
          undefined,
        ],
      ];
      const clean = () => {
        // Nix's narinfo disk cache too: it would remember that a cache emptied since holds the path, and skip the push.
        // Only Nix's: slime's part of the directory (its code cache, src/cli/launch.ts) is what every
        // run of an installed slime has; deleting it made each timed run compile the CLI afresh and
        // write the cache again (a pull of 1 s: 1.09 against 1.16 s with the cache kept, 15
        // alternating rounds, 2026-12-07, within the rounds' spread).
        removeTree(path.join(env.XDG_CACHE_HOME!, 'nix'));
        // A pushed cache is a few files: deleting it costs the next run nothing worth measuring.
        for (const d of ['s-push', 'n-push']) {
          removeTree(path.join(work, d));
          removeTree(path.join(webroot, d));
        }
      };
      for (const [name, a, b, target] of part === 'closure' ? [] : steps) {
        const as: Measured[] = [];
        const bs: Measured[] = [];
        for (let i = 0; i < transferRounds; i++) {
          // Each run starts with nothing left to write back, as in the closure's rounds below:
          // without it the kernel may flush the 330 MB the run before wrote during the next run,
          // whichever tool that is (slime's http:// pulls on disk took 0.88 0.99 0.91 0.99 1.07 s
          // in one run, alternating with nix copy's 0.92 0.87 0.91 0.85 0.83 s).
          clean();
          spawnSync('sync');
          as.push(a());
          clean();
          spawnSync('sync');
          bs.push(b());
          log(`cache: ${name} round ${i + 1}: slime ${(as[i].ms / 1000).toFixed(2)} s, nix copy ${(bs[i].ms / 1000).toFixed(2)} s, load ${load()}`);
        }
        figures.push(figure(`cache: ${name} CPython quick (${(narSize / 1e6).toFixed(0)} MB NAR)`, as, 'nix copy', bs, target));
      }
      clean();
      if (part !== 'closure') figures.push(...floor(p, work, rounds, run, freshDir, log));
      if (part !== 'transfer') figures.push(...closure(storeDir, store, work, key, pub, quick ? 1 : 3, slime, slimeInEmptyStore, slimeInEmptyStoreEvaluating, nix, trust, freshDir, run, log));
      return figures;
    } finally {
      nginx.stop();
      // Gigabytes of small files: deleting them here (ext4 discards each freed extent
      // as it goes) took longer than the runs, so it goes on in the background, idle
      // priority (run.ts runs this benchmark last: the ones after it felt it).
      log(`cache: deleting ${work} in the background`);
      spawn('sh', ['-c', `chmod -R u+w ${q(work)}; exec nice -n 19 ionice -c3 rm -rf ${q(work)}`], { detached: true, stdio: 'ignore' }).unref();
    }
  },
};

const load = (): string => os.loadavg()[0].toFixed(1);

/**
 * The file system's own cost: the CPython quick tree written by slime's restore, by
 * nix-store --restore, by cp -a from the store and by tar -x, each into a new
 * directory; and the NAR's decompression and hash alone.
 */
function floor(
  p: string,
  work: string,
  rounds: number,
  run: (cmd: string, args: string[]) => Measured,
  freshDir: (name: string) => string,
  log: (s: string) => void,
): Figure[] {
  const nar = path.join(work, 'floor.nar');
  const zst = `${nar}.zst`;
  const tar = path.join(work, 'floor.tar');
  const name = path.basename(p);
  // Not timed: the inputs.
  run('sh', ['-c', `nix-store --dump ${q(p)} > ${q(nar)} && zstd -q -3 -f ${q(nar)} -o ${q(zst)} && tar -C ${q(path.dirname(p))} -cf ${q(tar)} ${q(name)}`]);
  const ops: [string, () => Measured][] = [
    ['slime nar restore', () => run('sh', ['-c', `exec ${q(CLI)} nar restore ${q(path.join(freshDir('f-slime'), name))} < ${q(nar)}`])],
    ['nix-store --restore', () => run('sh', ['-c', `exec nix-store --restore ${q(path.join(freshDir('f-nix'), name))} < ${q(nar)}`])],
    ['cp -a', () => run('cp', ['-a', p, freshDir('f-cp')])],
    ['tar -x', () => run('tar', ['-C', freshDir('f-tar'), '-xf', tar])],
    ['zstd -d', () => run('sh', ['-c', `exec zstd -d -q -c ${q(zst)} > /dev/null`])],
    ['sha256sum', () => run('sha256sum', [nar])],
  ];
  const got = new Map<string, Measured[]>(ops.map(([n]) => [n, []]));
  for (let i = 0; i < rounds; i++) {
    const line: string[] = [];
    for (const [n, f] of ops) {
      const m = f();
      got.get(n)!.push(m);
      line.push(`${n} ${(m.ms / 1000).toFixed(2)} s (cpu ${(m.cpuMs / 1000).toFixed(2)} s)`);
    }
    log(`cache: floor round ${i + 1}, load ${load()}: ${line.join(', ')}`);
  }
  const secs = (n: string) => `${(median(got.get(n)!.map((m) => m.ms)) / 1000).toFixed(2)} s`;
  const alone = `alone on its NAR: zstd -d ${secs('zstd -d')}, sha256sum ${secs('sha256sum')}`;
  const slimeRuns = got.get('slime nar restore')!;
  return ['nix-store --restore', 'cp -a', 'tar -x'].map((ref) => ({
    ...figure(`cache: floor: the CPython quick tree written by slime nar restore vs ${ref}`, slimeRuns, ref, got.get(ref)!, undefined),
    note: `${figure('', slimeRuns, ref, got.get(ref)!, undefined).note}; ${alone}`,
  }));
}

function figure(name: string, as: Measured[], label: string, bs: Measured[], ratio: number | undefined): Figure {
  const secs = (ms: Measured[]) => median(ms.map((m) => m.ms)) / 1000;
  return {
    name,
    unit: 's',
    slime: secs(as),
    slimeRssMb: Math.max(...as.map((m) => m.rssMb)),
    slimeCpuMs: median(as.map((m) => m.cpuMs)),
    reference: { label, value: secs(bs), rssMb: Math.max(...bs.map((m) => m.rssMb)), cpuMs: median(bs.map((m) => m.cpuMs)) },
    ...(ratio === undefined ? {} : { target: { ratio } }),
    note: `rounds: slime ${as.map((m) => (m.ms / 1000).toFixed(2)).join(' ')} | ${label} ${bs.map((m) => (m.ms / 1000).toFixed(2)).join(' ')}`,
  };
}

/** The whole full-x86_64-quick from a cache into an empty store. */
function closure(
  storeDir: string,
  store: Store,
  work: string,
  key: string,
  pub: string,
  rounds: number,
  slime: (...a: string[]) => Measured,
  slimeInEmptyStore: (empty: string, ...a: string[]) => Measured,
  slimeInEmptyStoreEvaluating: (empty: string, ...a: string[]) => Measured,
  nix: (...a: string[]) => Measured,
  trust: string[],
  freshDir: (name: string) => string,
  run: (cmd: string, args: string[]) => Measured,
  log: (s: string) => void,
): Figure[] {
  const cache = `file://${work}/closure-cache`;
  let built: Measured | undefined;
  /** Where the output trees are outside any mount namespace: the bench store, or the build's store. */
  let treeDir = storeDir;
  if (process.env.SLIME_BENCH_CACHE_BUILD === '1') {
    // The build, timed, into an empty store with the same store dir; then what it built is pushed (not timed).
    const buildStore = freshDir('build');
    treeDir = buildStore;
    log(`cache: building ${TARGET} into an empty store (SLIME_BENCH_CACHE_BUILD=1: minutes), load ${load()}`);
    const loadBefore = load();
    built = slimeInEmptyStore(buildStore, 'realize', TARGET, '--store', storeDir, '--no-link', '--no-substitute', '--log-format', 'json');
    const builtEvents = built.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { type: string });
    log(
      `cache: ${TARGET} built in ${(built.ms / 1000).toFixed(1)} s, ` +
        `${builtEvents.filter((e) => e.type === 'built').length} built, load ${loadBefore}-${load()}`,
    );
    slimeInEmptyStore(buildStore, 'cache', 'push', cache, TARGET, '--store', storeDir, '--key', key);
  } else {
    slime('cache', 'push', cache, TARGET, '--store', storeDir, '--key', key);
  }
  const pushed = fs.readdirSync(path.join(work, 'closure-cache')).filter((f) => f.endsWith('.narinfo'));
  const paths = pushed.map((f) => /^StorePath: (.*)$/m.exec(fs.readFileSync(path.join(work, 'closure-cache', f), 'utf8'))![1]);
  const realizeArgs = ['realize', TARGET, '--store', storeDir, '--no-link', '--log-format', 'json', '--substituters', cache, '--trusted-public-keys', pub];
  const realize = (empty: string) => slimeInEmptyStore(empty, ...realizeArgs);
  const subs: Measured[] = [];
  const evaluating: Measured[] = [];
  const nixes: Measured[] = [];
  const cps: Measured[] = [];
  const loads: string[] = [];
  let events: { type: string; wallMs?: number; derivations?: unknown[]; outputs?: Record<string, string> }[] = [];
  let substitutedPaths: string[] = [];
  const stores: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const before = load();
    const withPlan = (): void => {
      const empty = freshDir('s-closure');
      stores.push(empty);
      // Each run starts with nothing left to write back: the 330 MB that the run before it wrote
      // would otherwise be flushed to disk during it (the first round, with none, was always the fastest).
      spawnSync('sync');
      const m = realize(empty);
      subs.push(m);
      events = m.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      // Like for like: Nix and cp get the paths slime substituted (the targets' runtime closure;
      // build-only inputs such as the source tarball are not needed, in slime as in nix-build).
      substitutedPaths = events.filter((e) => e.type === 'substituted').flatMap((e) => Object.values(e.outputs ?? {}));
    };
    const evaluatingTheModule = (): void => {
      spawnSync('sync');
      evaluating.push(slimeInEmptyStoreEvaluating(freshDir('s-closure-evaluating'), ...realizeArgs));
    };
    const nixCopy = (): void => {
      spawnSync('sync');
      nixes.push(nix('copy', '--from', cache, '--to', `local?root=${freshDir('n-closure')}`, ...trust, ...substitutedPaths));
    };
    const copyTrees = (): void => {
      spawnSync('sync');
      cps.push(run('cp', ['-a', ...substitutedPaths.map((sp) => path.join(treeDir, path.basename(sp))), freshDir('cp-closure')]));
    };
    // The four runs in another order each round (rotated by one): a run that follows a
    // gigabyte of writes is slower on this disk, and no run should always be that one. The
    // first round starts with slime's, whose events name the paths the others copy.
    const order = [withPlan, nixCopy, copyTrees, evaluatingTheModule];
    for (let k = 0; k < order.length; k++) order[(i + k) % order.length]!();
    const m = subs[i]!;
    loads.push(`${before}-${load()}`);
    log(
      `cache: ${TARGET} from a cache round ${i + 1}: slime realize ${(m.ms / 1000).toFixed(2)} s ` +
        `(${(evaluating[i].ms / 1000).toFixed(2)} s evaluating, SLIME_EVAL_CACHE=0), nix copy ${(nixes[i].ms / 1000).toFixed(2)} s, ` +
        `cp -a of the trees ${(cps[i].ms / 1000).toFixed(2)} s, load ${loads[i]}`,
    );
  }
  // The same run once more, right after deleting a store as big: the file system's cost of reusing freed inodes.
  removeTree(stores[0]);
  spawnSync('sync');
  const afterRm = realize(freshDir('s-closure-after-rm'));
  log(`cache: ${TARGET} right after deleting a store as big: slime realize ${(afterRm.ms / 1000).toFixed(2)} s, load ${load()}`);
  const count = (type: string) => events.filter((e) => e.type === type).length;
  const planned = events.find((e) => e.type === 'planned')?.derivations?.length ?? 0;
  const runMs = events.find((e) => e.type === 'finished')?.wallMs ?? NaN;
  // What building them took: the recorded build time of each output pushed (median over the derivation's name where it has none).
  let buildMs = 0;
  const unknown: string[] = [];
  const recorded: string[] = [];
  // A store whose outputs were substituted has no build durations: SLIME_BENCH_DURATIONS_STORE is where they were built.
  const builtIn = process.env.SLIME_BENCH_DURATIONS_STORE;
  const recordStores = [store, ...(builtIn ? [new Store(builtIn)] : [])];
  for (const sp of paths) {
    const info = recordStores.map((st) => st.queryInfo(sp)).find((i) => i?.buildDurationMs !== undefined) ?? store.queryInfo(sp);
    const name = path.basename(sp).slice(33);
    const ms = info?.buildDurationMs ?? store.expectedDuration(name);
    if (ms === undefined) unknown.push(name);
    else {
      buildMs += ms;
      const when = info?.buildDurationMs !== undefined ? ` at ${new Date(info.registrationTime * 1000).toISOString().slice(0, 16)}Z` : ' (median of its name)';
      recorded.push(`${name} ${(ms / 1000).toFixed(1)} s${when}`);
    }
  }
  const wall = median(subs.map((m) => m.ms));
  const cpMs = median(cps.map((m) => m.ms));
  const loadsNote = `load per round ${loads.join(', ')}`;
  const note =
    `${planned} derivations: ${count('substituted')} substituted, ${count('built')} built, ${count('not-needed')} not needed; ` +
    `nix copy and cp -a given the ${substitutedPaths.length} paths substituted (${substitutedPaths.map((p) => path.basename(p).slice(33)).join(', ')}); the run itself (planned -> finished) ${(runMs / 1000).toFixed(2)} s; ` +
    `build: the recorded build durations of the ${paths.length} outputs, ${(buildMs / 1000).toFixed(1)} s (${recorded.join(', ')})` +
    `${unknown.length ? ` (none for ${unknown.join(', ')})` : ''}; ${built ? 'the build of this run is the figure before' : 'the build was not re-run (SLIME_BENCH_CACHE_BUILD=1 does)'}; ` +
    `floor: cp -a of the same trees ${(cpMs / 1000).toFixed(2)} s, so at best ${(buildMs / cpMs).toFixed(0)}x here; ` +
    `right after deleting a store as big: ${(afterRm.ms / 1000).toFixed(2)} s; ${loadsNote}`;
  const sameRun: Figure[] = built
    ? [
        {
          name: `cache: ${TARGET} substituted into an empty store vs built into one, same run`,
          unit: 's',
          slime: wall / 1000,
          slimeRssMb: Math.max(...subs.map((m) => m.rssMb)),
          slimeCpuMs: median(subs.map((m) => m.cpuMs)),
          reference: { label: 'slime realize --no-substitute', value: built.ms / 1000, rssMb: built.rssMb, cpuMs: built.cpuMs },
          target: { ratio: 0.01 },
          note:
            `substitution ${(built.ms / wall).toFixed(0)}x faster than the build; ` +
            `both whole processes, the plan from the user's evaluation cache, into empty stores of the same store dir; the build once (the source fetch included), then ` +
            `the substitution rounds of what it built ${subs.map((m) => (m.ms / 1000).toFixed(2)).join(' ')} s; ${loadsNote}`,
        },
      ]
    : [];
  const evaluatingFigure: Figure = {
    name: `cache: ${TARGET} substituted, evaluating the module (SLIME_EVAL_CACHE=0) vs built (recorded durations)`,
    unit: 's',
    slime: median(evaluating.map((m) => m.ms)) / 1000,
    slimeRssMb: Math.max(...evaluating.map((m) => m.rssMb)),
    slimeCpuMs: median(evaluating.map((m) => m.cpuMs)),
    reference: { label: 'building it (recorded)', value: buildMs / 1000 },
    target: { ratio: 0.01 },
    note:
      `as on a machine that never evaluated this checkout (no plan in the store's or the user's evaluation cache): ` +
      `rounds ${evaluating.map((m) => (m.ms / 1000).toFixed(2)).join(' ')} s, against ${subs.map((m) => (m.ms / 1000).toFixed(2)).join(' ')} s with the plan cached; ${loadsNote}`,
  };
  const first: Figure = {
    name: `cache: ${TARGET} substituted into an empty store vs built (recorded durations)`,
    unit: 's',
    slime: wall / 1000,
    slimeRssMb: Math.max(...subs.map((m) => m.rssMb)),
    slimeCpuMs: median(subs.map((m) => m.cpuMs)),
    reference: { label: 'building it (recorded)', value: buildMs / 1000 },
    target: { ratio: 0.01 },
    note,
  };
  const floorFigure: Figure = {
    name: `cache: ${TARGET} floor: cp -a of the same output trees vs built`,
    unit: 's',
    slime: cpMs / 1000,
    slimeCpuMs: median(cps.map((m) => m.cpuMs)),
    reference: { label: 'building it (recorded)', value: buildMs / 1000 },
    note: `not slime: what copying the same files costs the file system, side by side with the runs above; ${loadsNote}`,
  };
  return [
    ...sameRun,
    first,
    evaluatingFigure,
    floorFigure,
    figure(`cache: ${TARGET} closure from a file:// cache into an empty store`, subs, 'nix copy --from', nixes, 1),
    figure(`cache: ${TARGET} closure substituted vs cp -a of the same trees`, subs, 'cp -a', cps, undefined),
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await cacheBenchmark.run({ quick: process.argv.includes('--quick'), log: (l) => process.stderr.write(`  ${l}\n`) });
  for (const f of figures) {
    const r = f.reference ? ` | ${f.reference.label} ${f.reference.value.toFixed(2)} ${f.unit} | ratio ${(f.slime / f.reference.value).toFixed(3)}` : '';
    process.stdout.write(`${f.name}: ${f.slime.toFixed(2)} ${f.unit}${r}${f.note ? `\n    ${f.note}` : ''}\n`);
  }
}
