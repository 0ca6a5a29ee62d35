/**
 * Pull-based reader of NAR primitives (`int`, `str`, padding; see ./format.ts) over
 * a chunked byte source, keeping track of the byte offset for error messages.
 */
import { SlimeError } from '../errors.js';
import { padLength } from './format.js';

export class NarError extends SlimeError {
  constructor(
    message: string,
    /** Byte offset in the NAR where the problem starts. */
    readonly offset: number,
  ) {
    super(`invalid NAR at byte ${offset}: ${message}`);
    this.name = 'NarError';
  }
}

/**
 * What a byte source for `NarReader` may be: any async iterable of Buffers. A source may
 * reuse a buffer once the reader asks for the next one: the reader itself keeps no slice
 * of a chunk past that point (what it gathers across chunks it copies), and what it
 * returns (a slice of the input) is valid until the caller's next read: a caller that
 * keeps one longer copies it.
 */
export type ByteSource = AsyncIterable<Buffer | string> | NodeJS.ReadableStream;

const EMPTY = Buffer.alloc(0);

export class NarReader {
  private readonly source: AsyncIterator<Buffer | string>;
  private chunk: Buffer = EMPTY;
  private pos = 0;
  /** Bytes consumed so far. */
  offset = 0;

  constructor(input: ByteSource) {
    this.source = (input as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  }

  /** Releases the source (for a stream: destroys it) when parsing stops early. */
  async close(): Promise<void> {
    await this.source.return?.();
  }

  /** Makes at least one unread byte available; false at the end of input. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      const next = await this.source.next();
      if (next.done) return false;
      if (typeof next.value === 'string') {
        throw new SlimeError(
          'the NAR input stream yields text, not bytes; read it without setting an encoding (no setEncoding()).',
        );
      }
      this.chunk = next.value;
      this.pos = 0;
    }
    return true;
  }

  private truncated(what: string): NarError {
    return new NarError(`the input ends in the middle of ${what}; the NAR is truncated.`, this.offset);
  }

  async readExact(n: number, what: string): Promise<Buffer> {
    if (this.chunk.length - this.pos >= n) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      this.offset += n;
      return out;
    }
    // Across chunks: each slice copied before the next chunk is asked for, which the
    // source may fill again (or, on the restore thread, give back) at that moment.
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for await (const slice of this.readSlices(n, what)) at += slice.copy(out, at);
    return out;
  }

  /** Yields the next `n` bytes as slices of the input, without gathering them. */
  async *readSlices(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw this.truncated(what);
      const take = Math.min(left, this.chunk.length - this.pos);
      const slice = this.chunk.subarray(this.pos, this.pos + take);
      this.pos += take;
      this.offset += take;
      left -= take;
      yield slice;
    }
  }

  async readInt(what: string): Promise<number> {
    const start = this.offset;
    const b = await this.readExact(8, what);
    const n = b.readBigUInt64LE();
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new NarError(`the length of ${what} is ${n}, more than any real file; the NAR is corrupt.`, start);
    }
    return Number(n);
  }

  async readPadding(length: number, what: string): Promise<void> {
    const pad = padLength(length);
    if (pad === 0) return;
    const start = this.offset;
    const bytes = await this.readExact(pad, `the padding after ${what}`);
    if (bytes.some((x) => x !== 0)) {
      throw new NarError(`the padding after ${what} is not all zero bytes; the NAR is corrupt.`, start);
    }
  }

  /** `str(s)` with |s| ≤ max; `tooLong` says why a longer one is wrong. */
  async readStr(max: number, what: string, tooLong: (length: number) => string): Promise<Buffer> {
    const start = this.offset;
    const length = await this.readInt(what);
    if (length > max) throw new NarError(tooLong(length), start);
    let s = await this.readExact(length, what);
    // Padding in the next chunk: reading it lets the source reuse the one `s` lies in.
    if (this.chunk.length - this.pos < padLength(length)) s = Buffer.from(s);
    await this.readPadding(length, what);
    return s;
  }

  /**
   * `str(s)` with |s| ≤ max, if the current chunk holds all of it and it is well
   * formed (zero padding); otherwise undefined and nothing consumed, so that the
   * caller's `readStr` reads it (and says what is wrong). Parsing a NAR of thousands
   * of small entries mostly from memory this way saves an await per primitive.
   */
  tryStr(max: number): Buffer | undefined {
    const at = this.pos;
    const c = this.chunk;
    if (c.length - at < 8 || c.readUInt32LE(at + 4) !== 0) return undefined;
    const length = c.readUInt32LE(at);
    if (length > max) return undefined;
    const body = at + 8;
    const end = body + length + padLength(length);
    if (end > c.length) return undefined;
    for (let i = body + length; i < end; i++) if (c[i] !== 0) return undefined;
    this.pos = end;
    this.offset += end - at;
    return c.subarray(body, body + length);
  }

  /** `int`, if the current chunk holds it and it is a safe integer; otherwise undefined, nothing consumed. */
  tryInt(): number | undefined {
    const at = this.pos;
    const c = this.chunk;
    if (c.length - at < 8) return undefined;
    const high = c.readUInt32LE(at + 4);
    if (high > 0x1fffff) return undefined;
    this.pos = at + 8;
    this.offset += 8;
    return high * 0x100000000 + c.readUInt32LE(at);
  }

  /** `n` bytes and their zero padding as one slice, if the current chunk holds them; otherwise undefined, nothing consumed. */
  tryContents(n: number): Buffer | undefined {
    const at = this.pos;
    const c = this.chunk;
    const end = at + n + padLength(n);
    if (end > c.length) return undefined;
    for (let i = at + n; i < end; i++) if (c[i] !== 0) return undefined;
    this.pos = end;
    this.offset += end - at;
    return c.subarray(at, at + n);
  }

  /** Whether all input has been consumed. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }
}
