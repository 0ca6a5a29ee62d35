/**
 * The CLI's stdout and stderr, made into Node's streams only when something needs a
 * stream. Node builds `process.stdout` and `process.stderr` on first read, and with them
 * its stream implementation: some twenty internal modules, ~2.5 ms of a ~70 ms no-op
 * `slime realize`, which writes three lines of text. So until a caller asks for more than
 * `write` (`on`, `pipe`, `columns`, a pipeline, Ink), text goes to the descriptor with
 * `fs.writeSync`, as Node itself writes to files and pipes on Linux (synchronously); from
 * then on everything goes through the stream, so the order of the output is kept.
 *
 * `isTTY` is answered without the stream when the descriptor is no character device (a
 * pipe, a file: never a terminal) or is one of Linux's memory devices (major number 1:
 * /dev/null, /dev/zero, ...; where a script sends a run's output, and where Node's
 * `stdio: 'ignore'` points a child's); otherwise the stream answers it.
 *
 * A write that the descriptor refuses for now (EAGAIN: a non-blocking pipe or terminal that
 * is full) hands the rest to the stream, which queues it. A closed reader (EPIPE) drops the
 * output, as the streams' own error handler does (main.ts).
 */
import fs from 'node:fs';
import type { Writable } from 'node:stream';

interface Lazy {
  /** The stream, once made; then every write goes to it. */
  stream: NodeJS.WriteStream | undefined;
  closed: boolean;
}

const made = new Map<number, Lazy>();

/** Linux's major number of the memory devices (the kernel's Documentation/admin-guide/devices.txt). */
const LINUX_MEMORY_DEVICES = 1;

function mayBeTerminal(st: fs.Stats): boolean {
  if (!st.isCharacterDevice()) return false;
  // glibc's major(): bits 8-19 and 32-43 of the device number.
  const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn) | Number((BigInt(st.rdev) >> 32n) & ~0xfffn);
  return !(process.platform === 'linux' && major === LINUX_MEMORY_DEVICES);
}

/** The stream made for `fd`, if one was: main.ts drains only those before exiting. */
export function streamMade(fd: number): NodeJS.WriteStream | undefined {
  return made.get(fd)?.stream;
}

/**
 * A Writable-shaped view of `fd` (the CLI's 1 and 2) whose stream is `make()`, called at most once,
 * when first needed. `onMade` runs once with the stream (the CLI's EPIPE handler).
 */
export function lazyOutput(fd: number, make: () => NodeJS.WriteStream, onMade: (s: NodeJS.WriteStream) => void): Writable {
  const state: Lazy = { stream: undefined, closed: false };
  made.set(fd, state);
  let tty: boolean | undefined;
  const stream = (): NodeJS.WriteStream => {
    if (state.stream === undefined) {
      state.stream = make();
      onMade(state.stream);
    }
    return state.stream;
  };
  const write = (chunk: string | Uint8Array, encodingOrDone?: BufferEncoding | ((e?: Error | null) => void), done?: (e?: Error | null) => void): boolean => {
    if (state.stream !== undefined || typeof chunk !== 'string') return stream().write(chunk, encodingOrDone as BufferEncoding, done);
    const callback = typeof encodingOrDone === 'function' ? encodingOrDone : done;
    if (!state.closed) {
      const bytes = Buffer.from(chunk, typeof encodingOrDone === 'string' ? encodingOrDone : 'utf8');
      let at = 0;
      try {
        while (at < bytes.length) at += fs.writeSync(fd, bytes, at);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') return stream().write(bytes.subarray(at), callback);
        if (code !== 'EPIPE') throw e;
        state.closed = true;
      }
    }
    if (callback) process.nextTick(callback);
    return true;
  };
  return new Proxy({} as Writable, {
    get(_target, prop) {
      if (prop === 'write') return write;
      if (prop === 'isTTY' && state.stream === undefined) {
        tty ??= mayBeTerminal(fs.fstatSync(fd)) ? stream().isTTY === true : false;
        return tty;
      }
      // Before the stream exists nothing is queued: `writableLength` 0, `writable` while the reader is there.
      if (prop === 'writableLength' && state.stream === undefined) return 0;
      if (prop === 'writable' && state.stream === undefined) return !state.closed;
      const s = stream();
      const value = Reflect.get(s, prop, s) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(s) : value;
    },
    set(_target, prop, value) {
      return Reflect.set(stream(), prop, value);
    },
    has(_target, prop) {
      return prop in stream();
    },
    getPrototypeOf() {
      return Object.getPrototypeOf(stream()) as object;
    },
  });
}
