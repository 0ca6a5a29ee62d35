/**
 * NAR compression as streams, nothing held whole in memory. zstd decompression, the
 * substitution's hot path, runs in this process through libzstd (zstd-napi, a Node-API
 * binding built from its bundled libzstd 1.5.7 at `npm ci`); everything else runs the
 * command-line tools as child processes, bytes in through stdin and out through stdout.
 *
 * Why in process for zstd: through pipes every byte of the NAR was copied twice more
 * (into `zstd`, out of it) and arrived in 64 KiB reads, each a turn of the event loop;
 * the CPython quick NAR (321 MB) pulled into a tmpfs store took 757 ms of wall and
 * 1,267 ms of CPU that way and takes 589 ms and 963 ms in process (15 alternating
 * rounds; `nix copy` 815 ms in the same rounds). libzstd checks the frame's content
 * checksum, as Nix's substitution does.
 *
 * Why child processes for the rest: Node 20's zlib has no zstd and no xz, and what
 * they do there (a push, an xz cache) is not where the time goes. Pure JavaScript
 * decoders are far slower: fzstd decompressed a 126 MB NAR in 5.7 s where the `zstd`
 * tool, through pipes, took 0.9 s. The tools are Debian's (`zstd`, `xz-utils`),
 * multi-threaded, and the reference implementations.
 *
 * Levels: zstd 3 (its default; on the CPython NAR level 6 saves a few percent for
 * about three times the time, see bench/cache.ts), xz 6 (Nix's and xz's default).
 */
import { createRequire } from 'node:module';
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

/** The tools and their arguments (zstd decompresses in process, above). */
interface Tool {
  cmd: string;
  compress: string[];
  pkg: string;
}
const TOOLS: { zstd: Tool; xz: Tool & { decompress: string[] }; bzip2: Tool & { decompress: string[] } } = {
  zstd: { cmd: 'zstd', compress: ['-c', '-q', '-T0', `-${ZSTD_LEVEL}`], pkg: 'zstd' },
  xz: { cmd: 'xz', decompress: ['-d', '-c', '-q'], compress: ['-c', '-q', '-T0', `-${XZ_LEVEL}`], pkg: 'xz-utils' },
  bzip2: { cmd: 'bzip2', decompress: ['-d', '-c', '-q'], compress: ['-c', '-q'], pkg: 'bzip2' },
};

/**
 * Hands out the next buffer of ZSTD_OUT_BYTES for zstd's output: a caller that gets the
 * yielded buffers back once it is done with them (pull.ts: from the restore thread) gives
 * them out again, instead of new memory for every MiB of the NAR.
 */
export type OutputBuffers = () => Buffer;

export function decompress(input: AsyncIterable<Buffer> | Readable, c: Compression, outputBuffer?: OutputBuffers): AsyncGenerator<Buffer> {
  if (c === 'zstd') return zstdDecompress(input, outputBuffer);
  return c === 'none' ? passThrough(input) : throughTool(input, c, 'decompress', TOOLS[c].decompress);
}

export function compress(input: AsyncIterable<Buffer> | Readable, c: Compression): AsyncGenerator<Buffer> {
  return c === 'none' ? passThrough(input) : throughTool(input, c, 'compress', TOOLS[c].compress);
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
  args: string[],
): AsyncGenerator<Buffer> {
  const tool = TOOLS[c];
  const child = childProcess().spawn(tool.cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
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

/** What libzstd's decompressor hands out at a time: whole buffers of this size, transferable as they are (pull.ts). */
export const ZSTD_OUT_BYTES = 1 << 20;

const newOutputBuffer: OutputBuffers = () => Buffer.allocUnsafe(ZSTD_OUT_BYTES);

/**
 * zstd decompressed in this process, by libzstd (zstd-napi's binding, the streaming
 * API): no child process and no pipes, through which every byte of the NAR was copied
 * twice more. Yields buffers of ZSTD_OUT_BYTES (the last may be shorter), each its own
 * memory (from `outputBuffer`, new by default), so that the consumer may keep or transfer
 * it. The input may hold several frames, one after another, as the `zstd` tool accepts;
 * it must end where a frame does.
 */
async function* zstdDecompress(input: AsyncIterable<Buffer> | Readable, outputBuffer = newOutputBuffer): AsyncGenerator<Buffer> {
  const dctx = new (zstdBinding().DCtx)();
  let out = outputBuffer();
  let filled = 0;
  /** 0 once a frame is whole and flushed: where the input may end. */
  let pending = 0;
  let sawInput = false;
  for await (const chunk of input) {
    let src = chunk as Buffer;
    if (src.length > 0) sawInput = true;
    while (src.length > 0 || pending > 0) {
      let r: [number, number, number];
      try {
        r = dctx.decompressStream(out.subarray(filled), src);
      } catch (e) {
        throw new SlimeError(`zstd could not decompress the data: ${(e as Error).message}`);
      }
      const [hint, produced, consumed] = r;
      pending = hint;
      filled += produced;
      src = src.subarray(consumed);
      if (filled === out.length) {
        yield out;
        out = outputBuffer();
        filled = 0;
      } else if (src.length === 0) break; // wants more input
    }
  }
  if (filled > 0) yield out.subarray(0, filled);
  if (!sawInput) throw new SlimeError('zstd could not decompress the data: it is empty, not a zstd frame');
  if (pending !== 0) throw new SlimeError('zstd could not decompress the data: it ends in the middle of a frame (truncated)');
}

let zstdModule: typeof import('zstd-napi/binding.js') | undefined;

/** libzstd's binding, loaded on the first zstd NAR (a no-op never loads it). */
function zstdBinding(): typeof import('zstd-napi/binding.js') {
  if (zstdModule) return zstdModule;
  try {
    return (zstdModule = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof import('zstd-napi/binding.js'));
  } catch (e) {
    throw new SlimeError(
      `cannot decompress zstd: libzstd's binding (the npm package zstd-napi, built from source by \`npm ci\`) does not load: ${(e as Error).message.split('\n')[0]}; run \`npm run setup\` again`,
    );
  }
}
