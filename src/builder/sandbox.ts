/**
 * Starts a builder process, in the build sandbox (Linux) or without it.
 * The one entry point is `launchBuilder`; the rest of the builder sees the same
 * child process and the same result either way, and never knows which it got.
 *
 * The sandbox (made by the builders' helper process, ./sandbox-setup.ts says how) gives
 * each builder its own user, mount, PID, network, IPC, UTS and cgroup namespaces, and
 * this file system, built on an empty read-only root:
 *
 *   /usr /bin /sbin /lib /lib32 /lib64 /libx32   the host's, read-only (merged-/usr links as links)
 *   /etc/alternatives, /etc/ld.so.*              the host's, read-only: tool links, the loader cache
 *   /etc/passwd /etc/group /etc/hosts            written for the build: nixbld (uid 1000, gid 100), localhost
 *   /etc/resolv.conf /etc/ssl ... /etc/hosts     fixed-output derivations only, with the network: the host's
 *   <prefix of each host tool outside /usr>      read-only (e.g. a Rust toolchain: <sysroot>/bin/rustc -> <sysroot>)
 *   /tools                                       read-only: PATH, one link per declared host tool
 *   /proc, /dev (+ /dev/shm), /tmp               the sandbox's own; /tmp and /dev/shm private and empty
 *   /build                                       the build directory, read-write, the cwd, TMPDIR, NIX_BUILD_TOP
 *   <store>                                      read-only and empty but for:
 *     <store>/<path>                             each path of the inputs' closure, read-only: a file as
 *                                                a hard link (a symlink too), a directory bound
 *                                                (see SandboxDirs)
 *     <store>/.slime/tmp                         read-write: the build's own staging directory, where the
 *                                                builder creates its temporary outputs (see Store.tempPathFor)
 *
 * The builder runs as uid 1000 / gid 100 with hostname `localhost`, whoever runs
 * slime, as in Nix's sandbox. Outside the closure nothing of the store is visible;
 * nothing outside `/build`, the staging directory, `/tmp` and `/dev` is writable.
 * When the builder exits the PID namespace ends, which kills every process it
 * started (a `setsid` daemon included); the sandbox ends with the helper, that is
 * when slime dies, even by SIGKILL.
 *
 * Without the sandbox the builder runs as the user, in the host's file system, in a
 * PID namespace of its own (`unshare --pid --fork --kill-child`; as root directly, as
 * another user inside a user namespace that maps the user to itself): the builder is
 * the namespace's init, so when it exits the kernel kills every process it started, a
 * `setsid` daemon included, before slime takes its outputs, as in the sandbox. The
 * `unshare` process and the builder share a process group. Every builder, in the
 * sandbox or not, is started by one helper process per slime process (./spawner.ts),
 * which kills the builders' process groups when its pipe from slime closes, that is
 * when slime dies however it dies; `unshare` dying takes the namespace with it
 * (`--kill-child`), a sandbox's init dies with the process that made it. Where no PID
 * namespace can be made (user namespaces forbidden to a user that is not root) the
 * builder runs in its own process group only, and a process that leaves that group
 * (`setsid`) escapes it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SlimeError } from '../errors.js';
// Not from add-path.js: realize imports this module, and a no-op must not load the
// NAR hashing, ssri and Node's streams that add-path.js brings (~3 ms).
import { existsNoFollow, removeTree } from '../store/store.js';
import { encodeOps, sandboxPerl, sandboxSyscalls, type SandboxOp } from './sandbox-setup.js';
import { pidNamespaceSyscalls, spawnProcess, type SpawnedProcess } from './spawner.js';

// node:child_process (and net, dgram behind it) is loaded when a process is first started,
// not by every command that imports this module: a few ms of a no-op's start.
const childProcess = () => process.getBuiltinModule('node:child_process');

/** Where the builder sees its build directory and its tools in the sandbox. */
export const SANDBOX_BUILD_DIR = '/build';
export const SANDBOX_TOOLS_DIR = '/tools';

/** Nix's build user inside its sandbox. */
const BUILD_UID = 1000;
const BUILD_GID = 100;

/** Host directories that hold the system's programs and libraries, bound read-only as they are. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** What a program on the host needs from /etc to start: alternatives links and the loader's cache. */
const SYSTEM_ETC = ['/etc/alternatives', '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d'];
/** What a fixed-output derivation needs from /etc to use the network (names, TLS roots). */
const NETWORK_ETC = [
  '/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf', '/etc/host.conf', '/etc/gai.conf', '/etc/services',
  '/etc/protocols', '/etc/ssl', '/etc/ca-certificates', '/etc/pki',
];

export interface LaunchRequest {
  builder: string;
  args: string[];
  /** The build directory on the host. */
  buildDir: string;
  /** The directory of links that makes up PATH, on the host. */
  toolsDir: string;
  /** Absolute paths of the declared host tools (the builder included). */
  hostTools: string[];
  storeDir: string;
  /** Store paths the builder may read: the closure of its inputs. */
  inputClosure: Iterable<string>;
  /** Output name -> temporary output path (under `<store>/.slime/tmp/`). */
  tempOutputs: Record<string, string>;
  /** Fixed-output derivations may use the network. */
  network: boolean;
  sandbox: boolean;
}

/** How the builder sees its surroundings: these go into its environment. */
export interface BuilderView {
  buildTop: string;
  path: string;
}

export interface LaunchedBuilder {
  child: SpawnedProcess;
  /**
   * Called once the builder has exited: waits until every process of the build is
   * gone, puts the outputs where the rest of the builder expects them, and removes
   * what the launch made.
   */
  finish(): Promise<void>;
}

/** Whether builds run in the sandbox: `--no-sandbox` or SLIME_SANDBOX=0 turns it off; on by default on Linux. */
export function sandboxWanted(noSandboxFlag: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (noSandboxFlag) return false;
  const v = env.SLIME_SANDBOX;
  if (v !== undefined && v !== '') {
    if (['0', 'false', 'no', 'off'].includes(v.toLowerCase())) return false;
    if (['1', 'true', 'yes', 'on'].includes(v.toLowerCase())) return true;
    throw new SlimeError(`SLIME_SANDBOX must be 1 or 0, not "${v}"`);
  }
  return process.platform === 'linux';
}

let probed: { ok: true } | { ok: false; message: string } | undefined;

/**
 * Checks once per process that a sandbox can start here (user namespaces allowed, the
 * mounts permitted); throws a one-line error that says what to do when not.
 */
export function ensureSandboxWorks(): void {
  probed ??= probe();
  if (!probed.ok) throw new SlimeError(probed.message);
}

/** Makes one sandbox the way the helper does, with the same code, and runs `/bin/sh -c :` in it. */
function probe(): { ok: true } | { ok: false; message: string } {
  const off = 'or build without the sandbox: --no-sandbox (or SLIME_SANDBOX=0)';
  const syscalls = sandboxSyscalls();
  if (process.platform !== 'linux' || syscalls === undefined) return { ok: false, message: `the build sandbox needs Linux on x64 or arm64; ${off}` };
  const hex = (t: string) => Buffer.from(t).toString('hex');
  const argv = ['/bin/sh', '-c', ':'];
  const request = [hex('/'), argv.length, ...argv.map(hex), 0, '-'].join(' ');
  const script = `use strict; use POSIX ();${sandboxPerl(syscalls)}
my $sb = sb_prepare($ARGV[0]); my ($init, $err) = sb_start($sb, $ARGV[1]);
if (defined $err) { print STDERR "$err\n"; exit 1 } waitpid($sb->{pid}, 0); exit($? >> 8);`;
  const r = childProcess().spawnSync('perl', ['-e', script, encodeOps(baseOps(false)), request], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  if (r.status === 0) return { ok: true };
  const why = (r.stderr || r.error?.message || `exit ${r.status ?? r.signal}`).trim().split('\n')[0];
  if (why.startsWith("cannot make the sandbox's namespaces")) {
    return {
      ok: false,
      message: `the build sandbox cannot start here: user namespaces are unavailable (${why}); allow them (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) ${off}`,
    };
  }
  return { ok: false, message: `the build sandbox cannot start here: ${why}; ${off}` };
}

/** Starts the builder (through ./spawner.ts); rejects when it cannot start, with the reason. */
export function launchBuilder(req: LaunchRequest, environment: (view: BuilderView) => Record<string, string>): Promise<LaunchedBuilder> {
  return req.sandbox ? launchSandboxed(req, environment) : launchUnsandboxed(req, environment);
}

async function launchUnsandboxed(req: LaunchRequest, environment: (view: BuilderView) => Record<string, string>): Promise<LaunchedBuilder> {
  const unshare = isExecutable(req.builder) ? pidNamespaceCommand() : undefined;
  // As root the helper makes the namespace itself (two exec's fewer: 3-4 ms a build);
  // a builder that cannot be run is started as it is, for exec's own error (ENOENT, EACCES).
  const byHelper = unshare?.withoutUserNamespace === true && pidNamespaceSyscalls() !== undefined;
  const argv = unshare && !byHelper
    ? [...unshare, '--', unshare.perl, '-e', NAMESPACE_INIT, '--', req.builder, ...req.args]
    : [req.builder, ...req.args];
  try {
    const child = await spawnProcess({ argv, cwd: req.buildDir, env: environment({ buildTop: req.buildDir, path: req.toolsDir }), pidNamespace: byHelper });
    return { child, finish: async () => undefined };
  } catch (e) {
    throw new SlimeError(`cannot run builder ${req.builder}: ${(e as Error).message}`);
  }
}

/**
 * The init of an unsandboxed builder's PID namespace: starts the builder as its child
 * (so the builder keeps the usual signal handling, which a namespace's init lacks),
 * reaps what is reparented to it, and exits as the builder did, a death by signal N as
 * 128 + N (as the sandbox's init reports it). Its exit ends the namespace.
 */
const NAMESPACE_INIT = `my $pid = fork;
defined $pid or die "cannot fork the builder: $!\\n";
if ($pid == 0) { exec { $ARGV[0] } @ARGV; print STDERR "cannot run builder $ARGV[0]: $!\\n"; exit 127 }
my $status = 0;
while ((my $w = waitpid(-1, 0)) > 0) { if ($w == $pid) { $status = $?; last } }
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);`;

let pidNamespace: PidNamespaceCommand | null | undefined;

/**
 * The command that starts an unsandboxed builder as the init of a PID namespace of its
 * own, probed once per process: without a user namespace when slime may make a PID
 * namespace itself (root), else inside one that maps the user to itself; null where
 * neither works (the builder then runs in its own process group only).
 */
export function pidNamespaceCommand(): PidNamespaceCommand | null {
  if (pidNamespace !== undefined) return pidNamespace;
  pidNamespace = null;
  // Absolute paths: unshare runs the init with the builder's PATH.
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find(isExecutable);
  const perl = ['/usr/bin/perl', '/bin/perl'].find(isExecutable);
  if (unshare && perl && process.platform === 'linux') {
    for (const user of [[], ['--user', '--map-current-user']]) {
      const command = [unshare, ...user, '--pid', '--fork', '--kill-child'];
      const r = childProcess().spawnSync(command[0], [...command.slice(1), '--', perl, '-e', 'exit 0'], { stdio: 'ignore', timeout: 30_000 });
      if (r.status === 0) return (pidNamespace = Object.assign(command, { perl, withoutUserNamespace: user.length === 0 }));
    }
  }
  return pidNamespace;
}

type PidNamespaceCommand = string[] & { perl: string; withoutUserNamespace: boolean };

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

async function launchSandboxed(req: LaunchRequest, environment: (view: BuilderView) => Record<string, string>): Promise<LaunchedBuilder> {
  ensureSandboxWorks();
  const dirs = takeSandboxDirs(tmpDirFor(req));
  let build: SandboxOp[];
  try {
    build = buildOps(req, dirs);
  } catch (e) {
    discardSandboxDirs(dirs);
    throw e;
  }
  let child: SpawnedProcess;
  try {
    child = await spawnProcess({
      argv: [req.builder, ...req.args],
      cwd: SANDBOX_BUILD_DIR,
      env: environment({ buildTop: SANDBOX_BUILD_DIR, path: SANDBOX_TOOLS_DIR }),
      sandbox: { base: baseOps(req.network), build },
    });
  } catch (e) {
    // The sandbox or the builder could not be started (a NUL in a value, a vanished
    // build directory): nothing of the launch stays (its directories are emptied for the next).
    giveBackSandboxDirs(dirs);
    throw e;
  }
  return {
    child,
    finish: async () => {
      // The builder's exit was reported when the process that made the sandbox exited,
      // after its init; when that was killed (a timeout, Ctrl-C) the init dies after it:
      // nothing of the build may still run when its outputs are taken.
      await untilGone(child.initPid);
      for (const temp of Object.values(req.tempOutputs)) {
        const staged = path.join(dirs.staging, path.basename(temp));
        if (existsNoFollow(staged)) {
          removeTree(temp);
          fs.renameSync(staged, temp);
        }
      }
      giveBackSandboxDirs(dirs);
    },
  };
}

/**
 * Waits until the sandbox's init has exited: its PID namespace, every process of the
 * build, ends with it (the kernel kills and reaps them before init's exit completes).
 * A zombie init counts as gone. Bounded, in case the pid was reused meanwhile.
 */
async function untilGone(pid: number | undefined): Promise<void> {
  if (pid === undefined) return;
  const until = Date.now() + 10_000;
  // Mostly gone by the first look, and otherwise soon: a chain of 250 builds slept here
  // 9 times in all, when each sleep was a fixed 10 ms.
  for (let wait = 1; Date.now() < until; wait = Math.min(10, wait * 2)) {
    let state: string;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return;
    }
    if (state === 'Z' || state === 'X') return;
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** The store's tmp dir, where the temporary outputs are: the build's own directories go beside them (same file system, so outputs move by rename). */
function tmpDirFor(req: LaunchRequest): string {
  const temps = Object.values(req.tempOutputs);
  return temps.length ? path.dirname(temps[0]) : path.join(req.storeDir, '.slime', 'tmp');
}

/** The /etc files written for the build: its user and group, and without the network the name localhost. */
function etcFiles(network: boolean): Record<string, string> {
  const files: Record<string, string> = {
    '/etc/passwd': `root:x:0:0:Nix build user:/build:/noshell\nnixbld:x:${BUILD_UID}:${BUILD_GID}:Nix build user:/build:/noshell\nnobody:x:65534:65534:Nobody:/:/noshell\n`,
    '/etc/group': `root:x:0:\nnixbld:!:${BUILD_GID}:\nnogroup:x:65534:\n`,
  };
  if (!network) files['/etc/hosts'] = '127.0.0.1 localhost\n::1 localhost\n';
  return files;
}

const baseOpsMade = new Map<boolean, SandboxOp[]>();

/**
 * The part of the sandbox that is the same for every build of this process with the
 * network, or without it: the helper makes it ahead. Looked at once per process (the
 * system's directories and /etc files), not once per build. /tmp first: the store or a
 * tool may live under the host's /tmp, and must show through.
 */
function baseOps(network: boolean): SandboxOp[] {
  let ops = baseOpsMade.get(network);
  if (ops === undefined) baseOpsMade.set(network, (ops = makeBaseOps(network)));
  return ops;
}

function makeBaseOps(network: boolean): SandboxOp[] {
  const ops: SandboxOp[] = network ? [['share-net']] : [];
  ops.push(['proc', '/proc'], ['dev', '/dev'], ['tmpfs', '/dev/shm', '0755'], ['tmpfs', '/tmp', '0755']);
  for (const dir of SYSTEM_DIRS) {
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    // A merged-/usr link (`/bin -> usr/bin`) stays a link; a real directory is bound read-only.
    if (st?.isSymbolicLink()) ops.push(['symlink', fs.readlinkSync(dir), dir]);
    else if (st?.isDirectory()) ops.push(['ro', dir, dir]);
  }
  ops.push(['dir', '/etc', '0755']);
  for (const p of [...SYSTEM_ETC, ...(network ? NETWORK_ETC : [])]) if (fs.existsSync(p)) ops.push(['ro', p, p]);
  for (const [file, text] of Object.entries(etcFiles(network))) ops.push(['file', file, '0644', text]);
  return ops;
}

/** The build's own part: its tools' installations, its store view, its build directory and PATH. */
function buildOps(req: LaunchRequest, dirs: SandboxDirs): SandboxOp[] {
  const ops: SandboxOp[] = toolPrefixes(req.hostTools).map((prefix) => ['ro', prefix, prefix]);
  const toBind = fillStoreView(dirs, req.inputClosure);
  ops.push(['rw', dirs.store, req.storeDir]);
  for (const p of toBind) ops.push(['ro', p, p]);
  ops.push(['rw', dirs.staging, path.join(req.storeDir, '.slime', 'tmp')]);
  ops.push(['remount-ro', req.storeDir]);
  ops.push(['rw', req.buildDir, SANDBOX_BUILD_DIR]);
  ops.push(['ro', req.toolsDir, SANDBOX_TOOLS_DIR]);
  ops.push(['remount-ro', '/']);
  return ops;
}

/**
 * The directories of a sandboxed build on the host, in the store's tmp dir (the file
 * system of the store, so outputs move by rename and inputs can be hard-linked):
 *
 *   sandbox-<pid>-<n>/store    the store directory the build sees (bound over the store,
 *                              then remounted read-only): each path of the input closure
 *                              as Nix's sandbox holds it, and `.slime/tmp`, the mount point
 *                              of the staging directory
 *   sandbox-<pid>-<n>/staging  the build's own, read-write, seen as `<store>/.slime/tmp`:
 *                              where the builder creates its temporary outputs
 *
 * In the store view a file or a symlink is a hard link (the same inode, so no copy, and
 * the read-only mount refuses writes, chmod and unlink through it; a symlink that cannot
 * be linked is copied), and only a directory, or a file that cannot be linked (another
 * file system, a link count at its limit), is bind-mounted, onto a directory the sandbox
 * makes in the view. One mount per path was the sandbox's cost (with bubblewrap, which
 * reread the mount table for each, a build whose closure held a thousand paths spent
 * seconds mounting them).
 *
 * The directories are kept from one build to the next of this process, one set per
 * build running at once: the staging directory is emptied, and the view changed to hold
 * the next closure, what it lacks linked, what it has beyond unlinked. A chain of builds,
 * each needing the one before, then links one path per build instead of its whole
 * closure. Made and deleted per build, they took ~5 ms of each ~20 ms build of a
 * 250-derivation chain: a link and an unlink per path, and six mkdirs and rmdirs whose
 * freed blocks this machine's ext4 (mounted with `discard`) trims one by one. A kept
 * link is checked against the inode of its path, so a path deleted and added again
 * (`verify --repair`, gc) is linked afresh. `releaseSandboxDirs()` deletes them when a run
 * is over, and an exit deletes what is left; a killed process leaves them in the tmp
 * dir, which `slime gc` empties.
 */
export interface SandboxDirs {
  readonly root: string;
  readonly store: string;
  readonly staging: string;
  /** Hard links in the store view, by name: the inode each links. */
  readonly links: Map<string, number>;
}

const freeSandboxDirs = new Map<string, SandboxDirs[]>();
const allSandboxDirs = new Set<SandboxDirs>();
let sandboxDirsMade = 0;
let releasedAtExit = false;

export function takeSandboxDirs(tmpDir: string): SandboxDirs {
  const free = freeSandboxDirs.get(tmpDir) ?? [];
  for (let dirs = free.pop(); dirs !== undefined; dirs = free.pop()) {
    // A set someone deleted meanwhile (the tmp dir is `slime gc`'s to empty) is made again.
    if (fs.existsSync(dirs.root)) return dirs;
    discardSandboxDirs(dirs);
  }
  const root = path.join(tmpDir, `sandbox-${process.pid}-${sandboxDirsMade++}`);
  const dirs: SandboxDirs = { root, store: path.join(root, 'store'), staging: path.join(root, 'staging'), links: new Map() };
  removeTree(root);
  fs.mkdirSync(path.join(dirs.store, '.slime', 'tmp'), { recursive: true });
  fs.chmodSync(dirs.store, 0o755);
  fs.mkdirSync(dirs.staging);
  if (!releasedAtExit) {
    releasedAtExit = true;
    process.once('exit', releaseSandboxDirs);
  }
  allSandboxDirs.add(dirs);
  return dirs;
}

/** After a build: what it left in its staging directory goes, and the set is free for the next. */
export function giveBackSandboxDirs(dirs: SandboxDirs): void {
  if (!allSandboxDirs.has(dirs)) return;
  try {
    for (const name of fs.readdirSync(dirs.staging)) removeTree(path.join(dirs.staging, name));
  } catch {
    discardSandboxDirs(dirs);
    return;
  }
  const tmpDir = path.dirname(dirs.root);
  const free = freeSandboxDirs.get(tmpDir);
  if (free === undefined) freeSandboxDirs.set(tmpDir, [dirs]);
  else free.push(dirs);
}

/** A set whose contents are no longer known (a launch that failed half-way): deleted. */
function discardSandboxDirs(dirs: SandboxDirs): void {
  allSandboxDirs.delete(dirs);
  removeTree(dirs.root);
}

/** Deletes every kept set of this process; the next sandboxed build makes a new one. */
export function releaseSandboxDirs(): void {
  for (const dirs of allSandboxDirs) removeTree(dirs.root);
  allSandboxDirs.clear();
  freeSandboxDirs.clear();
}

/** Makes the store view of `dirs` hold exactly `closure`; returns the paths to bind-mount into it (directories). */
export function fillStoreView(dirs: SandboxDirs, closure: Iterable<string>): string[] {
  const view = dirs.store;
  const wanted = new Map<string, string>();
  for (const p of closure) wanted.set(path.basename(p), p);
  // Whatever the view holds beyond its links (mount points the sandbox made, a copied
  // symlink) and each link that is not wanted now goes first.
  for (const name of fs.readdirSync(view)) {
    if (name === '.slime') continue;
    const inode = dirs.links.get(name);
    if (inode !== undefined && wanted.has(name)) continue;
    if (inode !== undefined) {
      fs.unlinkSync(path.join(view, name));
      dirs.links.delete(name);
    } else removeTree(path.join(view, name));
  }
  const toBind: string[] = [];
  for (const [name, p] of [...wanted].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const inView = path.join(view, name);
    const kept = dirs.links.get(name);
    if (kept !== undefined) {
      if (fs.lstatSync(p, { throwIfNoEntry: false })?.ino === kept) continue;
      fs.unlinkSync(inView);
      dirs.links.delete(name);
    }
    if (hardLinked(p, inView)) {
      dirs.links.set(name, fs.lstatSync(inView).ino);
      continue;
    }
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    // Registered but gone (a damaged store being repaired): absent here as outside.
    if (st === undefined) continue;
    // A symlink that may not be linked (protected_hardlinks, another owner): a copy, as a
    // mount would show its target instead.
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(p), inView);
    else toBind.push(p);
  }
  return toBind;
}

function hardLinked(from: string, to: string): boolean {
  try {
    fs.linkSync(from, to);
    return true;
  } catch {
    return false;
  }
}

/**
 * The installation each host tool outside the system directories belongs to: its
 * directory, or the directory above when that is a `bin` (a toolchain's sysroot).
 * Both the declared path and the file it resolves to count.
 */
export function toolPrefixes(tools: string[]): string[] {
  const prefixes = new Set<string>();
  for (const tool of tools) {
    const candidates = [tool];
    try {
      candidates.push(fs.realpathSync(tool));
    } catch {
      // A tool that is gone fails when the builder runs it, with the shell's message.
    }
    for (const c of candidates) {
      if (isUnder(c, [...SYSTEM_DIRS, '/etc'])) continue;
      const dir = path.dirname(c);
      prefixes.add(['bin', 'sbin'].includes(path.basename(dir)) ? path.dirname(dir) : dir);
    }
  }
  // A prefix inside another is bound with it.
  const sorted = [...prefixes].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && isUnder(p, [q])));
}

function isUnder(p: string, dirs: string[]): boolean {
  return dirs.some((d) => p === d || p.startsWith(d.endsWith('/') ? d : d + '/'));
}
