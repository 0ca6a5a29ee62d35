/**
 * Runs one derivation's builder process in a clean environment.
 *
 * The environment is the derivation's own env plus a fixed set of variables (see
 * buildEnvironment); nothing leaks in from the caller. The builder runs in its own
 * process group so a timeout or Ctrl-C can end everything it started.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DrvData } from '../derivation/aterm.js';
import { parseHostTools } from '../derivation/host-tools.js';
import type { FailureReason } from '../events.js';

/** The value of SOURCE_DATE_EPOCH in every build: 1980-01-01, as nixpkgs uses for zip-safe timestamps. */
export const SOURCE_DATE_EPOCH = '315532800';

export { buildDirFor } from './build-dir.js';

export interface BuilderRun {
  drvPath: string;
  drv: DrvData;
  buildDir: string;
  /** Output name -> the temporary path the builder writes to. */
  tempOutputs: Record<string, string>;
  storeDir: string;
  cores: number;
  logFile: string;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  timeoutMs?: number;
  signal: AbortSignal;
  /** Called with the builder's pid (= its process group) once it runs. */
  onSpawn?: (pid: number) => void;
}

export function buildEnvironment(run: BuilderRun, toolsDir: string): Record<string, string> {
  const env: Record<string, string> = { ...run.drv.env };
  for (const [name, p] of Object.entries(run.tempOutputs)) env[name] = p;
  return {
    ...env,
    PATH: toolsDir,
    HOME: '/homeless-shelter',
    TMPDIR: run.buildDir,
    TEMPDIR: run.buildDir,
    TMP: run.buildDir,
    TEMP: run.buildDir,
    NIX_BUILD_TOP: run.buildDir,
    NIX_BUILD_CORES: String(run.cores),
    NIX_STORE: run.storeDir,
    SOURCE_DATE_EPOCH,
    LC_ALL: 'C',
    TZ: 'UTC',
  };
}

/** PATH for the build: a directory of links to exactly the declared host tools. */
export function makeToolsDir(buildDir: string, drv: DrvData): string {
  const dir = `${buildDir}.tools`;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, target] of parseHostTools(drv.env)) fs.symlinkSync(target, path.join(dir, name));
  return dir;
}

/** Resolves with null on success, or the reason the builder failed. */
export function runBuilder(run: BuilderRun): Promise<FailureReason | null> {
  const toolsDir = makeToolsDir(run.buildDir, run.drv);
  const log = fs.openSync(run.logFile, 'a');
  const child = spawn(run.drv.builder, run.drv.args, {
    cwd: run.buildDir,
    env: buildEnvironment(run, toolsDir),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid) run.onSpawn?.(child.pid);
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  let ended: FailureReason | null = null;
  const stop = (reason: FailureReason) => {
    ended ??= reason;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 3000).unref();
  };
  const onAbort = () => stop({ kind: 'interrupted', signal: 'SIGINT' });
  run.signal.addEventListener('abort', onAbort, { once: true });
  const timer = run.timeoutMs
    ? setTimeout(() => stop({ kind: 'timeout', timeoutMs: run.timeoutMs! }), run.timeoutMs)
    : undefined;

  // A log that cannot be written (full disk, I/O error) ends the build with a clear reason.
  const logState = { written: 0, error: undefined as NodeJS.ErrnoException | undefined };
  const onLogError = (e: NodeJS.ErrnoException) => {
    if (logState.error) return;
    logState.error = e;
    stop({ kind: 'internal', message: `cannot write the build log ${run.logFile} after ${logState.written} bytes: ${e.code ?? e.message}${e.code === 'ENOSPC' ? ' (the disk is full; free space and build again)' : ''}` });
  };
  const pending = [
    pipeLines(child.stdout!, log, logState, onLogError, (l) => run.onLine('stdout', l)),
    pipeLines(child.stderr!, log, logState, onLogError, (l) => run.onLine('stderr', l)),
  ];

  return new Promise((resolve) => {
    const finish = (reason: FailureReason | null) => {
      clearTimeout(timer);
      run.signal.removeEventListener('abort', onAbort);
      void Promise.all(pending).then(() => {
        fs.closeSync(log);
        // A builder's background children must not outlive it.
        killGroup('SIGKILL');
        resolve(ended ?? reason);
      });
    };
    child.on('error', (e) => finish({ kind: 'internal', message: `cannot run builder ${run.drv.builder}: ${e.message}` }));
    child.on('exit', (code, signal) => {
      finish(code === 0 ? null : { kind: 'exit', exitCode: code, signal });
    });
  });
}

/** Copies a stream to the log file and hands each complete line to `onLine`. */
function pipeLines(
  stream: NodeJS.ReadableStream,
  logFd: number,
  state: { written: number; error?: NodeJS.ErrnoException },
  onError: (e: NodeJS.ErrnoException) => void,
  onLine: (line: string) => void,
): Promise<void> {
  let partial = '';
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      if (!state.error) {
        try {
          fs.writeSync(logFd, chunk);
          state.written += chunk.length;
        } catch (e) {
          onError(e as NodeJS.ErrnoException);
        }
      }
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) onLine(l);
    });
    stream.on('end', () => {
      if (partial) onLine(partial);
      resolve();
    });
  });
}
