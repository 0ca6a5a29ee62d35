import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchAbortedError, MirrorFailure } from './attempt.js';
import { writeHashed } from './hashed-file.js';
import type { ProgressMeter } from './progress.js';

/**
 * What the mirrors that fetch through another program's own client share (apt-get
 * source, pip download): a scratch directory, the client run in its own process group
 * (so cancelling stops its helpers too), progress from the growing file's size (the
 * clients report progress only to a terminal), and the named file copied out and hashed.
 */
export interface CommandFetchContext {
  source: string;
  meter: ProgressMeter;
  /** The client downloads here, into a fresh subdirectory that is removed afterwards. */
  workDir: string;
  signal?: AbortSignal;
}

export interface ClientRun {
  /** The program and its arguments; the download directory is the cwd. */
  command: string;
  args: (dir: string) => string[];
  /** Extra environment on top of this process's own. */
  env?: Record<string, string>;
  /** The file the client is expected to leave in the directory. */
  file: string;
  /** A scratch subdirectory's prefix, e.g. `apt-source-`. */
  scratchPrefix: string;
  /** The one-line reason for a failed run (exit code or signal, and the client's output tail). */
  describeFailure: (exit: ClientExit, output: string) => string;
  /** The client is missing (ENOENT). */
  notInstalled: string;
  /** The client exited non-zero but the file may still have arrived whole (apt-get). */
  acceptFileDespiteFailure?: boolean;
  /** When the run succeeded but the file is not there. */
  describeMissing: (got: string[]) => string;
}

export interface ClientExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

// How often the growing download is measured for progress.
const pollMs = 200;
// Enough of the client's output to show its error lines, bounded.
const keptOutputChars = 4000;

/** Runs the client, then copies `file` out of what it downloaded into a new file `tmp`, returning its sha256. */
export async function fetchWithClient(run: ClientRun, tmp: string, ctx: CommandFetchContext): Promise<Buffer> {
  let dir: string;
  try {
    await mkdir(ctx.workDir, { recursive: true });
    dir = await mkdtemp(join(ctx.workDir, run.scratchPrefix));
  } catch (err) {
    throw new MirrorFailure(`cannot make a scratch directory in ${ctx.workDir}: ${(err as Error).message}`);
  }
  try {
    await runClient(run, dir, ctx);
    const path = join(dir, run.file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      const got = (await readdir(dir)).filter((f) => f !== 'partial');
      throw new MirrorFailure(run.describeMissing(got));
    }
    ctx.meter.setTotal(size);
    ctx.meter.at(size);
    ctx.meter.finish();
    try {
      return await writeHashed(createReadStream(path), tmp, undefined, ctx.signal);
    } catch (err) {
      if (ctx.signal?.aborted) throw new FetchAbortedError(ctx.source, ctx.signal.reason);
      throw err;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runClient(run: ClientRun, dir: string, ctx: CommandFetchContext): Promise<void> {
  const { signal, meter } = ctx;
  // Loaded on first use: this module is in the derivation API's import closure, which a
  // CommonJS derivation module require()s, and execa is ESM only (docs/architecture.md).
  const { execa } = await import('execa');
  const child = execa(run.command, run.args(dir), {
    cwd: dir,
    // The client's messages are matched to tell the user what to do.
    env: { LC_ALL: 'C', LANG: 'C', LANGUAGE: '', ...run.env },
    stdin: 'ignore',
    // Its own process group, so that cancelling stops its helpers (apt's methods) too.
    detached: true,
    // stdout and stderr interleaved as a terminal would show them; only the tail is kept.
    all: true,
    reject: false,
  });

  const target = join(dir, run.file);
  const poll = setInterval(() => {
    stat(target).then(
      (s) => meter.at(s.size),
      () => {},
    );
  }, pollMs);
  const cancel = () => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone: the result below settles.
      }
    }
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    const r = await child;
    if (signal?.aborted) throw new FetchAbortedError(ctx.source, signal.reason);
    const code = (r as { code?: string }).code;
    if (code === 'ENOENT') throw new MirrorFailure(run.notInstalled);
    if (r.exitCode === undefined && r.signal === undefined) throw new MirrorFailure(`cannot run ${run.command}: ${r.originalMessage ?? r.shortMessage}`);
    if (r.exitCode === 0) return;
    if (run.acceptFileDespiteFailure && (await stat(target).then((s) => s.size > 0, () => false))) return;
    const exit: ClientExit = { code: r.exitCode ?? null, signal: (r.signal as NodeJS.Signals | undefined) ?? null };
    throw new MirrorFailure(run.describeFailure(exit, String(r.all ?? '').slice(-keptOutputChars)));
  } finally {
    clearInterval(poll);
    signal?.removeEventListener('abort', cancel);
  }
}

/** `exited with 1` / `was killed by SIGTERM`. */
export function describeExit(exit: ClientExit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
}
