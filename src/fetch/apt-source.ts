import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FetchAbortedError, MirrorFailure } from './attempt.js';
import { writeHashed } from './hashed-file.js';
import type { ProgressMeter } from './progress.js';

export interface AptSourceSpec {
  package: string;
  version?: string;
  file: string;
}

export interface AptSourceContext {
  source: string;
  meter: ProgressMeter;
  /** apt-get downloads here, into a fresh subdirectory that is removed afterwards. */
  workDir: string;
  signal?: AbortSignal;
}

// How often the growing download is measured for progress: apt-get reports its own
// progress only to a terminal, so the file's size is the only signal available.
const pollMs = 200;
// Enough of apt-get's output to show its error lines, bounded so that a chatty run
// cannot grow without limit.
const keptOutputChars = 4000;

/**
 * Runs `apt-get source --download-only PACKAGE[=VERSION]` and copies `file` out of what
 * it downloaded into a new file `tmp`, returning its sha256. apt-get checks the files
 * against the signed Sources index, but slime trusts only the derivation's hash.
 */
export async function fetchAptSource(spec: AptSourceSpec, tmp: string, ctx: AptSourceContext): Promise<Buffer> {
  let dir: string;
  try {
    await mkdir(ctx.workDir, { recursive: true });
    dir = await mkdtemp(join(ctx.workDir, 'apt-source-'));
  } catch (err) {
    throw new MirrorFailure(`cannot make a scratch directory in ${ctx.workDir}: ${(err as Error).message}`);
  }
  try {
    await runAptGetSource(spec, dir, ctx);
    const path = join(dir, spec.file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      const got = (await readdir(dir)).filter((f) => f !== 'partial');
      throw new MirrorFailure(
        `apt-get source ${aptArgument(spec)} downloaded ${got.join(', ') || 'nothing'} but no ${spec.file}; ` +
          `fix the file name in the derivation (apt-cache showsrc ${spec.package} lists the files)`,
      );
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

function aptArgument(spec: AptSourceSpec): string {
  return spec.version === undefined ? spec.package : `${spec.package}=${spec.version}`;
}

async function runAptGetSource(spec: AptSourceSpec, dir: string, ctx: AptSourceContext): Promise<void> {
  const { signal, meter } = ctx;
  const argument = aptArgument(spec);
  const child = spawn('apt-get', ['source', '--download-only', argument], {
    cwd: dir,
    // apt-get's messages are matched below to tell the user what to do.
    env: { ...process.env, LC_ALL: 'C', LANG: 'C', LANGUAGE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that cancelling also stops the download helpers
    // (/usr/lib/apt/methods/http) that apt-get starts.
    detached: true,
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-keptOutputChars);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const target = join(dir, spec.file);
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
        // Already gone: the close handler below settles the promise.
      }
    }
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => resolve({ code, signal: sig }));
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        throw new MirrorFailure('apt-get is not installed: an apt-source mirror needs a Debian or Ubuntu machine');
      }
      throw new MirrorFailure(`cannot run apt-get: ${err.message}`);
    });
    if (signal?.aborted) throw new FetchAbortedError(ctx.source, signal.reason);
    // apt-get also fails when only the .dsc or the Debian patches are missing from the
    // archive (security updates replace them); the orig tarball may still have arrived
    // whole, and the caller's hash check decides whether it is the right file.
    if (exit.code !== 0 && !(await stat(target).then((s) => s.size > 0, () => false))) {
      throw new MirrorFailure(describeAptFailure(argument, spec.package, exit, output));
    }
  } finally {
    clearInterval(poll);
    signal?.removeEventListener('abort', cancel);
  }
}

function describeAptFailure(
  argument: string,
  pkg: string,
  exit: { code: number | null; signal: NodeJS.Signals | null },
  output: string,
): string {
  const errors = output
    .split('\n')
    .filter((line) => line.startsWith('E: '))
    .map((line) => line.slice(3).trim());
  const status = exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
  const said = errors.length > 0 ? `: ${errors.join('; ')}` : '';
  const head = `apt-get source ${argument} ${status}${said}`;
  if (/deb-src/.test(output)) {
    return `${head}; apt has no deb-src entry: run \`npm run setup\`, which adds one and runs apt-get update`;
  }
  if (/Can not find version/.test(output)) {
    return `${head}; \`apt-cache showsrc ${pkg}\` lists the versions this machine's sources have`;
  }
  if (/Unable to find a source package/.test(output)) {
    return (
      `${head}; either no source package is named ${pkg} or apt's source lists are missing: ` +
      `check the name with \`apt-cache showsrc ${pkg}\`, or run \`npm run setup\` (adds a deb-src entry and runs apt-get update)`
    );
  }
  return errors.length > 0 ? head : `${head}: ${output.trim().split('\n').slice(-3).join(' | ')}`;
}
