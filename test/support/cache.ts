/** Shared by the binary cache tests: a toy module, nix's environment, JSON events. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { slime, writeModule, type CliResult } from './cli.js';

/**
 * Two tiny /bin/sh builds: `base` (a file, an executable, a symlink) and `top`,
 * which refers to base, so substituting top needs base first.
 */
export function toyModule(dir: string, salt = ''): string {
  return writeModule(
    dir,
    'toy.ts',
    `const sh = (name: string, script: string, env: Record<string, unknown> = {}) =>
  derivation({ name, builder: '/bin/sh', args: ['-c', script], env: { SALT: ${JSON.stringify(salt)}, ...env } as never, tools: ['mkdir', 'cat', 'echo', 'ln', 'chmod'] });
export const base = sh('base', 'mkdir $out; echo base $SALT > $out/b; echo "#!/bin/sh" > $out/run; chmod +x $out/run; ln -s b $out/link');
export const top = sh('top', 'mkdir $out; cat $base/b > $out/t; echo $base > $out/ref', { base });
export const targets = [target('toy', 'two toy builds, top refers to base', [top])];`,
  );
}

export interface SlimeEventLine {
  type: string;
  [k: string]: unknown;
}

export function events(r: CliResult): SlimeEventLine[] {
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as SlimeEventLine);
}

export function count(evs: SlimeEventLine[], type: string): number {
  return evs.filter((e) => e.type === type).length;
}

/** Removes a store (its paths are read-only). */
export function removeStore(store: string): void {
  if (!fs.existsSync(store)) return;
  const writable = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    fs.chmodSync(p, st.mode | 0o700);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) writable(path.join(p, e));
  };
  writable(store);
  fs.rmSync(store, { recursive: true, force: true });
}

/** Builds the toy module into `store` and returns the realize result. */
export async function buildToy(dir: string, store: string, module: string, extra: string[] = []): Promise<CliResult> {
  return slime(['realize', 'toy', '-f', module, '--store', store, '--no-link', '--log-format', 'json', '--no-substitute', ...extra], { cwd: dir });
}

export async function realizeWith(dir: string, store: string, module: string, extra: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return slime(['realize', 'toy', '-f', module, '--store', store, '--no-link', '--log-format', 'json', ...extra], { cwd: dir, env });
}

/** Nix 2.8 run daemon-less against a store whose logical dir is `storeDir`. */
export function nixEnv(dir: string, storeDir: string): NodeJS.ProcessEnv {
  fs.mkdirSync(path.join(dir, 'nixconf'), { recursive: true });
  return {
    ...process.env,
    NIX_STORE_DIR: storeDir,
    NIX_STATE_DIR: path.join(dir, 'nixstate'),
    NIX_LOG_DIR: path.join(dir, 'nixlog'),
    NIX_CONF_DIR: path.join(dir, 'nixconf'),
    NIX_CONFIG: 'build-users-group =',
    XDG_CACHE_HOME: path.join(dir, 'xdgcache'),
    HOME: dir,
  };
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export const NIX = ['--extra-experimental-features', 'nix-command'];

/** Every store path (not .drv) that is in `store`, by base name. */
export function outputsIn(store: string): string[] {
  if (!fs.existsSync(store)) return [];
  return fs.readdirSync(store).filter((e) => !e.startsWith('.') && !e.endsWith('.drv')).sort();
}
