/**
 * Runs one derivation's builder process in a clean environment.
 *
 * The environment is the derivation's own env plus a fixed set of variables (see
 * buildEnvironment); nothing leaks in from the caller. Where and how the process
 * starts (in the build sandbox or not) is src/builder/sandbox.ts's business; here it
 * is a child in its own process group, so a timeout or Ctrl-C can end all it started.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DrvData } from '../derivation/aterm.js';
import { parseHostTools } from '../derivation/host-tools.js';
import { BuildFailure } from '../errors.js';
import type { FailureReason } from '../events.js';
import { buildRoot } from './build-dir.js';
import { launchBuilder, type BuilderView, type LaunchedBuilder } from './sandbox.js';

/** The value of SOURCE_DATE_EPOCH in every build: 1980-01-01, as nixpkgs uses for zip-safe timestamps. */
export const SOURCE_DATE_EPOCH = '315532800';

export { buildDirFor } from './build-dir.js';

/** Builds see HOME=/homeless-shelter; if it exists, a build could read or write there. */
const HOMELESS = '/homeless-shelter';

/** Refuses to build while the builders' HOME exists (something wrote there with HOME unset). */
export function assertHomelessShelterAbsent(): void {
  if (fs.existsSync(HOMELESS)) {
    throw new BuildFailure({
      kind: 'internal',
      message: `home directory ${HOMELESS} exists, so builds would not be pure (something wrote there with HOME unset); remove it: rm -rf ${HOMELESS}`,
    });
  }
}

export interface BuilderRun {
  drvPath: string;
  drv: DrvData;
  buildDir: string;
  /** Output name -> the temporary path the builder writes to. */
  tempOutputs: Record<string, string>;
  storeDir: string;
  /** Store paths the builder may read: the closure of its inputs (all the sandbox shows of the store). */
  inputClosure: Iterable<string>;
  /** Run in the build sandbox (see sandbox.ts). */
  sandbox: boolean;
  cores: number;
  logFile: string;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  timeoutMs?: number;
  signal: AbortSignal;
  /** Called with the builder's pid (= its process group) once it runs. */
  onSpawn?: (pid: number) => void;
}

/** `view`: the build directory and PATH as the builder sees them (`/build` and `/tools` in the sandbox). */
export function buildEnvironment(run: BuilderRun, view: BuilderView): Record<string, string> {
  const env: Record<string, string> = { ...run.drv.env };
  for (const [name, p] of Object.entries(run.tempOutputs)) env[name] = p;
  return {
    ...env,
    PATH: view.path,
    HOME: HOMELESS,
    TMPDIR: view.buildTop,
    TEMPDIR: view.buildTop,
    TMP: view.buildTop,
    TEMP: view.buildTop,
    NIX_BUILD_TOP: view.buildTop,
    NIX_BUILD_CORES: String(run.cores),
    NIX_STORE: run.storeDir,
    SOURCE_DATE_EPOCH,
    LC_ALL: 'C',
    TZ: 'UTC',
  };
}

/** PATH of an unsandboxed build that declares no host tools: a directory that does not exist. */
const NO_TOOLS = '/path-not-set';

/**
 * PATH for the build: a directory of links to exactly the declared host tools. One per
 * set of tools, named by a hash of the names and what they link to, under the build
 * root's `.tools/` (a dot: no `slimeBuildDir` can be named so), made once, renamed into
 * place whole, and shared read-only by every build that declares the same tools, in
 * this process and the next. A directory made and removed per build cost each trivial
 * build of the 1000-derivation graph ~1 ms of the main thread (mkdir, symlink, and a
 * removal that met ENOTEMPTY first).
 */
export function toolsDirFor(hostTools: Map<string, string>): string {
  const tools = [...hostTools].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const key = createHash('sha256').update(JSON.stringify(tools)).digest('hex').slice(0, 32);
  const dir = path.join(buildRoot(), '.tools', key);
  // Looked for at every build, not remembered: the build root may have been emptied meanwhile.
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    const temp = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      fs.mkdirSync(temp);
      for (const [name, target] of tools) fs.symlinkSync(target, path.join(temp, name));
      fs.renameSync(temp, dir);
    } catch (e) {
      fs.rmSync(temp, { recursive: true, force: true });
      // Another slime made the same directory first: it is the same.
      if (!fs.existsSync(dir)) throw e;
    }
  }
  return dir;
}

/** Resolves with null on success, or the reason the builder failed. */
export async function runBuilder(run: BuilderRun): Promise<FailureReason | null> {
  if (run.signal.aborted) return { kind: 'interrupted', signal: signalOf(run.signal) };
  // Without the sandbox and without declared tools, PATH names no directory, as Nix's
  // /path-not-set: a build then makes and removes no directory for it.
  const hostTools = parseHostTools(run.drv.env);
  const toolsDir = !run.sandbox && hostTools.size === 0 ? NO_TOOLS : toolsDirFor(hostTools);
  let launched: LaunchedBuilder;
  try {
    launched = await startBuilder(run, toolsDir);
  } catch (e) {
    // The sandbox cannot start here, or the builder cannot be run: a failure like any
    // other, cleaned up as any other.
    return { kind: 'internal', message: (e as Error).message };
  }
  const { child, finish: finishLaunch } = launched;
  const log = fs.openSync(run.logFile, 'a');
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
  const onAbort = () => stop({ kind: 'interrupted', signal: signalOf(run.signal) });
  // An abort while the builder was being launched (the sandbox's setup is awaited) has
  // fired already and would never reach this listener: the build would run to its end
  // and be registered after Ctrl-C (seen in CI under load).
  if (run.signal.aborted) onAbort();
  else run.signal.addEventListener('abort', onAbort, { once: true });
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
    pipeLines(child.stdout, log, logState, onLogError, (l) => run.onLine('stdout', l)),
    pipeLines(child.stderr, log, logState, onLogError, (l) => run.onLine('stderr', l)),
  ];

  return new Promise((resolve) => {
    const finish = (reason: FailureReason | null) => {
      clearTimeout(timer);
      run.signal.removeEventListener('abort', onAbort);
      // A builder's background children must not outlive it (those that left its
      // process group only the sandbox ends: they may hold its output pipes open).
      killGroup('SIGKILL');
      void settled(Promise.all(pending), PIPE_GRACE_MS).then(async () => {
        child.stdout.destroy();
        child.stderr.destroy();
        child.release();
        fs.closeSync(log);
        try {
          await finishLaunch();
        } catch (e) {
          reason ??= { kind: 'internal', message: `cannot collect the build's outputs: ${(e as Error).message}` };
        }
        resolve(ended ?? reason);
      });
    };
    void child.exited.then(({ code, signal }) => finish(code === 0 ? null : { kind: 'exit', exitCode: code, signal }));
  });
}

function startBuilder(run: BuilderRun, toolsDir: string): Promise<LaunchedBuilder> {
  return launchBuilder(
    {
      builder: run.drv.builder,
      args: run.drv.args,
      buildDir: run.buildDir,
      toolsDir,
      hostTools: [...new Set([run.drv.builder, ...parseHostTools(run.drv.env).values()])],
      storeDir: run.storeDir,
      inputClosure: run.inputClosure,
      tempOutputs: run.tempOutputs,
      network: Object.values(run.drv.outputs).some((o) => o.hash !== ''),
      sandbox: run.sandbox,
    },
    (view) => buildEnvironment(run, view),
  );
}

/** How long the output pipes may stay open after the builder exited, held by a process it left behind. */
const PIPE_GRACE_MS = 2000;

function settled(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The signal an abort carries as its reason (SIGINT, SIGTERM, SIGHUP); SIGINT when it carries none. */
export function signalOf(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return typeof r === 'string' && r.startsWith('SIG') ? r : 'SIGINT';
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
