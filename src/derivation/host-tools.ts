/**
 * Host tools: programs a derivation uses from the machine rather than from the store
 * (gcc, make, cargo, ...). Their identity is part of the derivation's hash, so a
 * different gcc means a different derivation: absolute path, the SHA-256 of the file
 * it resolves to, and the first line of its `--version` output.
 *
 * Names resolve in fixed system directories, never in the caller's PATH, so that the
 * same derivation module gives the same hashes whoever runs it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';

// node:child_process (and net, dgram behind it) is loaded when a process is first started,
// not by every command that imports this module: a few ms of a no-op's start.
const childProcess = () => process.getBuiltinModule('node:child_process');

export const HOST_TOOL_DIRS = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];

export interface HostTool {
  name: string;
  /** The absolute path the builder's PATH links to. */
  path: string;
  sha256: string;
  version: string;
}

interface CacheEntry {
  key: string;
  sha256: string;
  version: string;
}

/**
 * Resolves tools and remembers their identity keyed by the file's inode, size and
 * mtime, so that a no-op `slime realize` does not rehash gcc or run `--version` again.
 *
 * Two such memories: the store's (`cacheFile`), and the user's (`userCacheFile`,
 * see userToolCacheFile), which a new, empty store on the same machine starts from,
 * so that its first evaluation (substituting a whole build from a cache, say) does
 * not hash and run some eighty tools again. An entry is used only while the file's
 * inode, size and mtime are those it was taken from, whichever memory holds it.
 */
export class HostToolResolver {
  /** Read on first use: a lookup in the evaluation cache only stamps tools. */
  private cacheRead?: Record<string, CacheEntry>;
  private userCacheRead?: Record<string, CacheEntry>;
  private dirty = false;
  private userDirty = false;
  /** What this evaluation resolved, by the name or path it was asked for. */
  private readonly resolved = new Map<string, HostTool>();

  constructor(
    private readonly cacheFile?: string,
    private readonly extraDirs: string[] = [],
    private readonly userCacheFile?: string,
  ) {}

  private get cache(): Record<string, CacheEntry> {
    return (this.cacheRead ??= this.cacheFile ? readCache(this.cacheFile) : {});
  }

  private get userCache(): Record<string, CacheEntry> {
    return (this.userCacheRead ??= this.userCacheFile ? readCache(this.userCacheFile) : {});
  }

  resolve(nameOrPath: string): HostTool {
    const known = this.resolved.get(nameOrPath);
    if (known) return known;
    const found = nameOrPath.startsWith('/') ? nameOrPath : this.find(nameOrPath);
    const name = path.basename(nameOrPath);
    const real = realpathOf(found, nameOrPath);
    const st = fs.statSync(real);
    // v2: versions of tools that refuse --version come from their package (see versionOf).
    const key = `v2:${st.ino}:${st.size}:${st.mtimeMs}`;
    let entry = this.cache[real];
    if (!entry || entry.key !== key) {
      const known = this.userCache[real];
      entry = known?.key === key && typeof known.sha256 === 'string' && typeof known.version === 'string' ? known : { key, sha256: sha256File(real), version: versionOf(found) };
      this.cache[real] = entry;
      this.dirty = true;
    }
    if (this.userCacheFile && this.userCache[real]?.key !== key) {
      this.userCache[real] = entry;
      this.userDirty = true;
    }
    const tool = { name, path: found, sha256: entry.sha256, version: entry.version };
    this.resolved.set(nameOrPath, tool);
    return tool;
  }

  /** The names and paths resolved so far, for the evaluation cache. */
  resolvedNames(): string[] {
    return [...this.resolved.keys()].sort();
  }

  /**
   * What a tool resolves to, cheaply: the path found, the file it leads to and that
   * file's inode, size, mtime and ctime. If it is unchanged, so is the tool's
   * identity (its hash and version are those of the same file), with no hashing
   * and no process started.
   */
  stamp(nameOrPath: string): string {
    try {
      // stat follows symlinks: the stat of the path found is that of the file it leads to.
      const { found, st } = nameOrPath.startsWith('/') ? { found: nameOrPath, st: fs.statSync(nameOrPath) } : this.findWithStat(nameOrPath);
      const real = fs.realpathSync.native(found);
      return `${found} ${real} ${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch {
      return 'missing';
    }
  }

  private find(name: string): string {
    return this.findWithStat(name).found;
  }

  private findWithStat(name: string): { found: string; st: fs.Stats } {
    if (name.includes('/')) {
      throw new SlimeError(`host tool "${name}": give a bare name or an absolute path`);
    }
    for (const dir of [...this.extraDirs, ...HOST_TOOL_DIRS]) {
      const p = path.join(dir, name);
      // stat first, without an exception where the tool is not (most directories):
      // the evaluation cache looks up every tool of the project on every run.
      try {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        if (!st?.isFile()) continue;
        fs.accessSync(p, fs.constants.X_OK);
        return { found: p, st };
      } catch {
        continue;
      }
    }
    throw new SlimeError(
      `host tool "${name}" was not found in ${HOST_TOOL_DIRS.join(':')}; install it (the README's setup command installs every tool the project's derivations declare)`,
    );
  }

  save(): void {
    if (this.cacheFile && this.dirty) {
      writeCache(this.cacheFile, this.cache);
      this.dirty = false;
    }
    if (this.userCacheFile && this.userDirty) {
      try {
        // Merged with what another process saved meanwhile; only a speed-up, so a read-only home is no error.
        writeCache(this.userCacheFile, { ...readCache(this.userCacheFile), ...this.userCache });
      } catch {
        // Left unsaved.
      }
      this.userDirty = false;
    }
  }
}

/** slime's directory in the user's cache: $XDG_CACHE_HOME/slime, else ~/.cache/slime; none when no home is known. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  return base ? path.join(base, 'slime') : undefined;
}

/**
 * The user's memory of host tool identities: $SLIME_TOOL_CACHE, else
 * tool-cache.json in userCacheDir(); none when SLIME_TOOL_CACHE is empty or no home is known.
 */
export function userToolCacheFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.SLIME_TOOL_CACHE !== undefined) return env.SLIME_TOOL_CACHE === '' ? undefined : path.resolve(env.SLIME_TOOL_CACHE);
  const dir = userCacheDir(env);
  return dir && path.join(dir, 'tool-cache.json');
}

function readCache(file: string): Record<string, CacheEntry> {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, CacheEntry>) : {};
  } catch {
    return {};
  }
}

function writeCache(file: string, cache: Record<string, CacheEntry>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(cache));
  fs.renameSync(tmp, file);
}

function realpathOf(found: string, asked: string): string {
  try {
    return fs.realpathSync.native(found);
  } catch {
    throw new SlimeError(`host tool "${asked}" (${found}) does not exist or is a broken link; install it or fix the path in the derivation module`);
  }
}

function sha256File(p: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(p, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * The first line a tool prints for `--version`. A tool that refuses the flag (dash,
 * as /bin/sh: "Illegal option --") has no version of its own to tell: its Debian
 * package's name and version stand in (`dash 0.5.12-2`), or nothing where dpkg does not
 * know the file; the file's hash identifies it either way.
 */
function versionOf(p: string): string {
  const said = versionLine(p);
  if (!/illegal option|invalid option|unrecognized option|unknown option/i.test(said)) return said;
  return packageVersionOf(p) ?? '';
}

/**
 * How long a query about a tool (`--version`, dpkg) may take. The answer goes into
 * every derivation's hash, so a query that runs out of time is an error, never an
 * empty version: with a 5 s limit, 8 processes evaluating at once on a loaded machine
 * (load ~25) recorded `dash 0.5.12-2` in some and nothing in others, and so
 * different store paths for the same module (test/store-concurrency.test.ts).
 */
export const TOOL_QUERY_TIMEOUT_MS = 120_000;

/**
 * Runs a query about a tool: its stdout and stderr and whether it succeeded, but never
 * a query cut short by the clock. (node:child_process, not execa: this module is in
 * the derivation API's import closure, which a CommonJS derivation module loads with
 * require(), and execa is ESM only: docs/architecture.md.)
 */
function query(file: string, args: string[], env?: Record<string, string>): { ok: boolean; stdout: string; stderr: string } {
  const r = childProcess().spawnSync(file, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: TOOL_QUERY_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
    ...(env !== undefined ? { env } : {}),
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') {
    throw new SlimeError(
      `\`${[file, ...args].join(' ')}\` did not answer in ${TOOL_QUERY_TIMEOUT_MS / 1000} s; a host tool's identity is part of every derivation's hash, so slime does not guess it: check that the command works, then run slime again`,
    );
  }
  return { ok: r.error === undefined && r.status === 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** `dash 0.5.12-2` for a file a Debian package installed (under its /usr-merged name too). */
export function packageVersionOf(p: string): string | undefined {
  const real = fs.realpathSync(p);
  const candidates = [...new Set([real, real.replace(/^\/usr\/(s?bin|lib)\//, '/$1/'), p])];
  for (const file of candidates) {
    // Not owned by a package (exit 1), or no dpkg on this machine: the next name, else no version.
    const owner = query('dpkg-query', ['-S', file]);
    if (!owner.ok) continue;
    const pkg = owner.stdout.split(':')[0]!.trim();
    const version = query('dpkg-query', ['-W', '-f', '${Version}', pkg]);
    if (version.ok && pkg !== '' && version.stdout !== '') return `${pkg} ${version.stdout}`;
  }
  return undefined;
}

function versionLine(p: string): string {
  const r = query(p, ['--version'], { PATH: HOST_TOOL_DIRS.join(':'), LC_ALL: 'C' });
  // A tool that refuses the flag says why on stderr: that text is what versionOf looks at.
  const text = r.ok ? r.stdout : `${r.stdout}${r.stderr}`;
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

/**
 * The env value that carries the tools' identities into the derivation's hash, one
 * line per tool: `name path sha256 version`, sorted by name.
 */
export function describeHostTools(resolver: HostToolResolver, names: string[]): string {
  const tools = [...new Set(names)].map((n) => resolver.resolve(n));
  tools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return tools.map((t) => `${t.name} ${t.path} ${t.sha256} ${t.version}`).join('\n');
}

/**
 * PATH for a builder other than slime's (a Nix daemon or remote builder realising the
 * .drv, which sets only what the derivation's env says): the directories the tools
 * were found in, in HOST_TOOL_DIRS' order, then any other in name order. slime's own
 * builds replace it with a directory of links to exactly the declared tools.
 */
export function hostToolsPath(resolver: HostToolResolver, names: string[]): string {
  const dirs = [...new Set(names.map((n) => path.dirname(resolver.resolve(n).path)))];
  const rank = (d: string) => {
    const i = HOST_TOOL_DIRS.indexOf(d);
    return i < 0 ? HOST_TOOL_DIRS.length : i;
  };
  dirs.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  return dirs.join(':');
}

/** Reads the tool list back from a derivation's environment: name -> absolute path. */
export function parseHostTools(env: Record<string, string>): Map<string, string> {
  const tools = new Map<string, string>();
  for (const line of (env.slimeHostTools ?? '').split('\n')) {
    const [name, p] = line.split(' ');
    if (name && p) tools.set(name, p);
  }
  return tools;
}
