/** Runs the built CLI (`dist/`) as a user would, in a fresh temporary store. */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
/** tsc's `dist/src/cli/main.js`; SLIME_TEST_CLI=dist/bin/slime.cjs runs the same tests on the bundle (package.json's bin). */
export const CLI = path.resolve(ROOT, process.env.SLIME_TEST_CLI || 'dist/src/cli/main.js');
export const BUNDLE = path.join(ROOT, 'dist/bin/slime.cjs');
export const API = path.join(ROOT, 'src/derivation/api.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = 'slime-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function startSlime(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function slime(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = startSlime(args, opts);
  return collect(child);
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Writes a derivation module that imports slime's API, and returns its path. */
export function writeModule(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `import { derivation, derivationSet, fetchFile, source, target } from ${JSON.stringify(API)};\n${body}`);
  return file;
}

/** Store entries that are store paths (not slime's own state). */
export function storePaths(store: string): string[] {
  if (!fs.existsSync(store)) return [];
  return fs.readdirSync(store).filter((e) => !e.startsWith('.')).sort();
}

/** Every file and directory under `dir`, relative to it, sorted (none when it does not exist). */
export function treeOf(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** The SRI sha256 of `text`, as a fixed-output derivation's `outputHash` takes it. */
export const sriSha256 = (text: string): string => `sha256-${crypto.createHash('sha256').update(text).digest('base64')}`;
