/**
 * The host tools the SlimePython derivations declare. Each one's path, file hash and
 * version enter the derivation's hash (src/derivation/host-tools.ts): a different gcc
 * or rustc gives different derivations.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluationInput } from '../src/derivation/api.js';
import { userToolCacheFile } from '../src/derivation/host-tools.js';
import { SlimeError } from '../src/errors.js';

/** What a POSIX shell script expects to find: coreutils, sed, grep, awk, find, tar. */
export const shellTools = [
  'sh', 'bash', 'cat', 'cp', 'mv', 'rm', 'mkdir', 'rmdir', 'ln', 'chmod', 'ls', 'touch', 'date',
  'basename', 'dirname', 'env', 'expr', 'head', 'tail', 'tr', 'sort', 'uniq', 'cut', 'wc', 'tee',
  'test', 'true', 'false', 'printf', 'echo', 'uname', 'install', 'sleep', 'readlink', 'realpath',
  'od', 'comm', 'mktemp', 'id', 'cmp', 'diff', 'sed', 'grep', 'egrep', 'fgrep', 'awk', 'find',
  'xargs', 'tar', 'gzip', 'stat', 'md5sum', 'sha256sum', 'nproc',
];

/** The C toolchain and make, for CPython. */
export const cTools = [
  'make', 'gcc', 'cc', 'cpp', 'g++', 'c++', 'ar', 'ranlib', 'as', 'ld', 'nm', 'strip',
  'objcopy', 'objdump', 'readelf', 'pkg-config',
];

/**
 * cargo and rustc from the rustup toolchain the machine defaults to, by their real
 * paths in the toolchain: the rustup proxies in ~/.cargo/bin need a $HOME that builds
 * do not have.
 */
export function rustTools(): string[] {
  const sysroot = rustSysroot();
  return ['cargo', 'rustc'].map((t) => path.join(sysroot, 'bin', t));
}

/** The answer of `rustc --print sysroot`, asked once per process: every Rust derivation needs it. */
let sysroot: string | undefined;

function rustSysroot(): string {
  const dirs = [path.join(os.homedir(), '.cargo', 'bin'), '/usr/local/bin', '/usr/bin', '/bin'];
  const searchPath = dirs.join(':');
  // What decides the answer: which rustc comes first, and rustup's default toolchain.
  for (const d of dirs) evaluationInput(path.join(d, 'rustc'));
  evaluationInput(path.join(os.homedir(), '.rustup', 'settings.toml'));
  if (sysroot !== undefined) return sysroot;
  const key = sysrootKey(dirs);
  const remembered = rememberedSysroot(key);
  if (remembered !== undefined) return (sysroot = remembered);
  try {
    sysroot = execFileSync('rustc', ['--print', 'sysroot'], {
      encoding: 'utf8',
      env: { PATH: searchPath, HOME: os.homedir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (e) {
    throw new SlimeError(
      `cannot find the Rust toolchain (rustc --print sysroot failed: ${(e as Error).message.split('\n')[0]}); install Rust with a default toolchain`,
    );
  }
  remember(key, sysroot);
  return sysroot;
}

/*
 * The answer is remembered for the user, beside the tool cache (rust-sysroot.json:
 * { key, sysroot }), because asking costs a rustup proxy and a rustc start: 0.1 s at
 * idle, 0.7 s under load, the largest part of evaluating full-x86_64-quick in an empty
 * store (a first substitution). It is reused while what decides it is unchanged: the
 * same files (device, inode, size, mtime, and the link's target) at each rustc the
 * search path offers, the same rustup settings and working directory, and the
 * sysroot still holds bin/rustc. SLIME_TOOL_CACHE= (empty) turns it off.
 */
function sysrootKey(dirs: string[]): string {
  const stamp = (p: string): string => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    const link = fs.lstatSync(p, { throwIfNoEntry: false });
    return st ? `${p}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${link?.isSymbolicLink() ? fs.readlinkSync(p) : ''}` : `${p}:-`;
  };
  return JSON.stringify([process.cwd(), ...dirs.map((d) => stamp(path.join(d, 'rustc'))), stamp(path.join(os.homedir(), '.rustup', 'settings.toml'))]);
}

function sysrootFile(): string | undefined {
  const tools = userToolCacheFile();
  return tools ? path.join(path.dirname(tools), 'rust-sysroot.json') : undefined;
}

function rememberedSysroot(key: string): string | undefined {
  const file = sysrootFile();
  if (!file) return undefined;
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { key?: unknown; sysroot?: unknown };
    if (saved.key !== key || typeof saved.sysroot !== 'string') return undefined;
    return fs.statSync(path.join(saved.sysroot, 'bin', 'rustc'), { throwIfNoEntry: false })?.isFile() ? saved.sysroot : undefined;
  } catch {
    return undefined;
  }
}

function remember(key: string, answer: string): void {
  const file = sysrootFile();
  if (!file) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ key, sysroot: answer }));
    fs.renameSync(tmp, file);
  } catch {
    // Not remembered: asked again next time.
  }
}
