/**
 * The host tools the SlimePython derivations declare. Each one's path, file hash and
 * version enter the derivation's hash (src/derivation/host-tools.ts): a different gcc
 * or rustc gives different derivations.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { evaluationInput } from '../src/derivation/api.js';
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
  try {
    return (sysroot = execFileSync('rustc', ['--print', 'sysroot'], {
      encoding: 'utf8',
      env: { PATH: searchPath, HOME: os.homedir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim());
  } catch (e) {
    throw new SlimeError(
      `cannot find the Rust toolchain (rustc --print sysroot failed: ${(e as Error).message.split('\n')[0]}); install Rust with a default toolchain`,
    );
  }
}
