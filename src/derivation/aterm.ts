/**
 * The `.drv` file format: a derivation as ATerm text, exactly as Nix 2.8 writes and reads it.
 *
 * Grammar:
 *   drv       = "Derive(" list(output) "," list(input-drv) "," list(string) ","
 *               string "," string "," list(string) "," list(env-pair) ")"
 *   output    = "(" string "," string "," string "," string ")"   name, path, hash algo, hash
 *   input-drv = "(" string "," list(string) ")"                   .drv path, output names
 *   env-pair  = "(" string "," string ")"
 *   list(x)   = "[" [ x { "," x } ] "]"
 *   string    = '"' { char | "\" any } '"'
 * Writing escapes only `"`, `\`, newline (\n), carriage return (\r) and tab (\t);
 * reading turns "\n", "\r", "\t" back and takes any other escaped char as itself.
 * Outputs, input derivations, their output names, sources and env are written
 * sorted by byte order (they are sets and maps in Nix); args keep their order.
 */
import { SlimeError } from '../errors.js';

export interface DrvOutput {
  path: string;
  /** "" for input-addressed outputs, else the method and algorithm, e.g. "r:sha256" or "sha256". */
  hashAlgo: string;
  /** "" or the expected hash in base16. */
  hash: string;
}

export interface DrvData {
  outputs: Record<string, DrvOutput>;
  /** Input `.drv` paths and which of their outputs are used. */
  inputDrvs: Record<string, string[]>;
  inputSrcs: string[];
  platform: string;
  builder: string;
  args: string[];
  env: Record<string, string>;
}

/** Byte order of the UTF-8 encodings, which is code point order, as Nix's std::string comparison. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * A code unit from which JavaScript's own string order (by UTF-16 code units) can part
 * from byte order: a surrogate (half of a code point past U+FFFF, which UTF-16 sorts
 * before U+E000-U+FFFF and UTF-8 after) or U+E000-U+FFFF itself.
 */
const UTF16_ORDER_DIFFERS = /[\ud800-\uffff]/;

/**
 * Sorted by byte order. Below U+D800 the UTF-16 code unit is the code point, so the
 * default sort (no callback, no Buffers) gives the same order; strings with a code unit
 * beyond are compared by their bytes. Evaluating the project's module (`slime targets`
 * without the evaluation cache) spent 7 ms of its 206 ms profile making two Buffers for
 * every comparison.
 */
function sorted(xs: Iterable<string>): string[] {
  const all = [...xs];
  return all.some((x) => UTF16_ORDER_DIFFERS.test(x)) ? all.sort(compareBytes) : all.sort();
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function str(s: string): string {
  return `"${s.replace(/["\\\n\r\t]/g, (c) => ESCAPES[c])}"`;
}

function list(items: string[]): string {
  return `[${items.join(',')}]`;
}

export function serializeDrv(d: DrvData): string {
  const outputs = sorted(Object.keys(d.outputs)).map((name) => {
    const o = d.outputs[name];
    return `(${[name, o.path, o.hashAlgo, o.hash].map(str).join(',')})`;
  });
  const inputDrvs = sorted(Object.keys(d.inputDrvs)).map(
    (p) => `(${str(p)},${list(sorted(new Set(d.inputDrvs[p])).map(str))})`,
  );
  const env = sorted(Object.keys(d.env)).map((k) => `(${str(k)},${str(d.env[k])})`);
  return (
    `Derive(${list(outputs)},${list(inputDrvs)},${list(sorted(new Set(d.inputSrcs)).map(str))},` +
    `${str(d.platform)},${str(d.builder)},${list(d.args.map(str))},${list(env)})`
  );
}

/** The characters that end a run of plain characters in a string. */
const SPECIAL = /["\\]/g;

/** A recursive-descent reader over the text; every error names the character offset. */
class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(expected: string): never {
    const found = this.pos < this.text.length ? JSON.stringify(this.text.slice(this.pos, this.pos + 20)) : 'the end';
    throw new SlimeError(
      `invalid derivation (.drv) text at character ${this.pos}: expected ${expected}, found ${found}; ` +
        `the file is corrupt or not a derivation, regenerate it.`,
    );
  }

  expect(s: string): void {
    if (!this.text.startsWith(s, this.pos)) this.fail(JSON.stringify(s));
    this.pos += s.length;
  }

  /** Consumes `s` if it comes next. */
  accept(s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  string(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      SPECIAL.lastIndex = this.pos;
      const stop = SPECIAL.exec(this.text);
      if (stop === null) this.fail('the closing \'"\' of a string');
      out += this.text.slice(this.pos, stop.index);
      this.pos = stop.index;
      if (this.accept('"')) return out;
      this.pos++;
      if (this.pos >= this.text.length) this.fail('an escaped character');
      const c = this.text[this.pos++];
      out += c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c;
    }
  }

  list<T>(item: () => T): T[] {
    this.expect('[');
    const out: T[] = [];
    if (this.accept(']')) return out;
    do out.push(item());
    while (this.accept(','));
    this.expect(']');
    return out;
  }

  /** A list of `(key, ...)` tuples into a record, refusing a key seen twice. */
  record<T>(what: string, item: () => [string, T]): Record<string, T> {
    const out: Record<string, T> = Object.create(null) as Record<string, T>;
    const start = this.pos;
    for (const [k, v] of this.list(item)) {
      if (Object.prototype.hasOwnProperty.call(out, k)) {
        this.pos = start;
        this.fail(`each ${what} once, but ${JSON.stringify(k)} appears twice in this list`);
      }
      out[k] = v;
    }
    return out;
  }
}

export function parseDrv(text: string): DrvData {
  const p = new Parser(text);
  p.expect('Derive(');
  const outputs = p.record('output name', () => {
    p.expect('(');
    const name = p.string();
    p.expect(',');
    const path = p.string();
    p.expect(',');
    const hashAlgo = p.string();
    p.expect(',');
    const hash = p.string();
    p.expect(')');
    return [name, { path, hashAlgo, hash }];
  });
  p.expect(',');
  const inputDrvs = p.record('input derivation', () => {
    p.expect('(');
    const path = p.string();
    p.expect(',');
    const names = p.list(() => p.string());
    p.expect(')');
    return [path, names];
  });
  p.expect(',');
  const inputSrcs = p.list(() => p.string());
  p.expect(',');
  const platform = p.string();
  p.expect(',');
  const builder = p.string();
  p.expect(',');
  const args = p.list(() => p.string());
  p.expect(',');
  const env = p.record('environment variable', () => {
    p.expect('(');
    const k = p.string();
    p.expect(',');
    const v = p.string();
    p.expect(')');
    return [k, v];
  });
  p.expect(')');
  if (p.pos !== text.length) p.fail('the end of the derivation');
  return { outputs: { ...outputs }, inputDrvs: { ...inputDrvs }, inputSrcs, platform, builder, args, env: { ...env } };
}
