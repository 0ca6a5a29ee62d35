/**
 * NAR compression as streams: the `zstd` and `xz` command-line tools run as child
 * processes, bytes in through stdin and out through stdout, so that nothing is held
 * whole in memory.
 *
 * Why child processes: Node 20's zlib has no zstd and no xz. The npm alternatives
 * are native addons (their install scripts fetch prebuilt binaries or need node-gyp
 * and headers from outside the registries, which a fresh clone here cannot get) or
 * pure JavaScript: fzstd, the fastest, decompressed a 126 MB NAR in 5.7 s where the
 * `zstd` tool, through the same pipes, took 0.9 s (/tmp measurement, see
 * bench/cache.ts). The tools are Debian's (`zstd`, `xz-utils`), multi-threaded,
 * and the reference implementations.
 *
 * Levels: zstd 3 (its default; on the CPython NAR level 6 saves a few percent for
 * about three times the time, see bench/cache.ts), xz 6 (Nix's and xz's default).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SlimeError } from '../errors.js';

// node:child_process (and net, dgram behind it) is loaded when a process is first started,
// not by every command that imports this module: a few ms of a no-op's start.
const childProcess = () => process.getBuiltinModule('node:child_process');

export type Compression = 'none' | 'xz' | 'zstd' | 'bzip2';
export const WRITABLE_COMPRESSIONS = ['zstd', 'xz', 'none'] as const;
export type WritableCompression = (typeof WRITABLE_COMPRESSIONS)[number];

export const ZSTD_LEVEL = 3;
export const XZ_LEVEL = 6;

export function isCompression(s: string): s is Compression {
  return s === 'none' || s === 'xz' || s === 'zstd' || s === 'bzip2';
}

/** The file name ending Nix gives a NAR compressed so. */
export function narExtension(c: Compression): string {
  return { none: '.nar', xz: '.nar.xz', zstd: '.nar.zst', bzip2: '.nar.bz2' }[c];
}

/**
 * `zstd -d --no-check`: zstd's own checksum of the content (XXH64) is not checked,
 * because every decompressed NAR is hashed against its NarHash, which the signature
 * covers, before anything of it is used (verified-nar.ts, the only caller); checking
 * both cost the CPython NAR's decompression ~10 % of its time (through pipes, as here,
 * 31 alternating rounds: 308 against 279 ms).
 */
const TOOLS: Record<Exclude<Compression, 'none'>, { cmd: string; decompress: string[]; compress: string[]; pkg: string }> = {
  zstd: { cmd: 'zstd', decompress: ['-d', '-c', '-q', '--no-check'], compress: ['-c', '-q', '-T0', `-${ZSTD_LEVEL}`], pkg: 'zstd' },
  xz: { cmd: 'xz', decompress: ['-d', '-c', '-q'], compress: ['-c', '-q', '-T0', `-${XZ_LEVEL}`], pkg: 'xz-utils' },
  bzip2: { cmd: 'bzip2', decompress: ['-d', '-c', '-q'], compress: ['-c', '-q'], pkg: 'bzip2' },
};

export function decompress(input: AsyncIterable<Buffer> | Readable, c: Compression): AsyncGenerator<Buffer> {
  return c === 'none' ? passThrough(input) : throughTool(input, c, 'decompress');
}

export function compress(input: AsyncIterable<Buffer> | Readable, c: Compression): AsyncGenerator<Buffer> {
  return c === 'none' ? passThrough(input) : throughTool(input, c, 'compress');
}

async function* passThrough(input: AsyncIterable<Buffer> | Readable): AsyncGenerator<Buffer> {
  for await (const chunk of input) yield chunk as Buffer;
}

/**
 * Runs the tool with `input` on its stdin and yields its stdout. The tool's exit
 * status is checked after its output ends, so corrupt input is an error, not a short
 * result. If the consumer stops early, the tool is killed.
 */
async function* throughTool(
  input: AsyncIterable<Buffer> | Readable,
  c: Exclude<Compression, 'none'>,
  mode: 'compress' | 'decompress',
): AsyncGenerator<Buffer> {
  const tool = TOOLS[c];
  const child = childProcess().spawn(tool.cmd, tool[mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  // Writing stops quietly if the tool dies early (EPIPE): its exit status says why.
  const feeding = pipeline(input instanceof Readable ? input : Readable.from(input), child.stdin).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ERR_STREAM_PREMATURE_CLOSE' ? undefined : e),
  );
  let finished = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const inputError = await feeding;
    if (inputError) throw inputError;
    const { code, error } = await exited;
    if (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new SlimeError(
        missing
          ? `cannot ${mode} ${c}: the \`${tool.cmd}\` command is not installed; install Debian's ${tool.pkg} (npm run setup)`
          : `cannot ${mode} ${c}: ${error.message}`,
      );
    }
    if (code !== 0) {
      const why = stderr.trim().split('\n').pop() || `exit status ${code}`;
      throw new SlimeError(`${tool.cmd} could not ${mode} the data: ${why}`);
    }
    finished = true;
  } finally {
    if (!finished) {
      child.kill('SIGKILL');
      child.stdin.destroy();
      child.stdout.destroy();
      await feeding;
    }
  }
}
