/**
 * What went wrong in a derivation module, said as a compiler says it:
 *
 *   error: derivations/foo.ts:12:5: <what is wrong>; <what to do>
 *
 * The position is the module's own (esbuild's location for a syntax error, the first
 * stack frame inside the module for a throw, nothing when it cannot be known), the
 * path is relative to the directory slime runs in. No stack trace: `--debug` (or
 * SLIME_DEBUG=1) prints the original error's stack after the message.
 */
import path from 'node:path';
import { SlimeError } from '../errors.js';
import type { Derivation, Target } from './api.js';

/** A module's error, with the original kept for `--debug`. */
export class ModuleError extends SlimeError {
  constructor(
    message: string,
    readonly original?: unknown,
    exitCode?: number,
  ) {
    super(message, exitCode);
    this.name = 'ModuleError';
  }
}

/** `derivations/foo.ts` for a module under the working directory, the absolute path otherwise. */
export function shownPath(abs: string, cwd = process.cwd()): string {
  const rel = path.relative(cwd, abs);
  return rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
}

interface EsbuildMessage {
  text: string;
  location?: { file: string; line: number; column: number } | null;
}

/** Turns whatever evaluating `abs` threw into one line that names the place and the next step. */
export function moduleLoadError(e: unknown, abs: string): ModuleError {
  const shown = shownPath(abs);
  const esbuild = (e as { errors?: EsbuildMessage[] }).errors;
  if (Array.isArray(esbuild) && esbuild.length > 0 && typeof esbuild[0]!.text === 'string') {
    const first = esbuild[0]!;
    const where = first.location ? `${shownPath(path.resolve(first.location.file))}:${first.location.line}:${first.location.column + 1}` : shown;
    const more = esbuild.length > 1 ? ` (and ${esbuild.length - 1} more)` : '';
    if (/^Could not resolve /.test(first.text)) {
      return new ModuleError(`${where}: cannot import: ${first.text.replace(/\.$/, '')}${more}; fix the import's path (or install the package) and run again`, e);
    }
    return new ModuleError(`${where}: syntax error: ${first.text}${more}; fix the module and run again`, e);
  }
  const err = e instanceof Error ? e : new Error(String(e));
  const where = positionIn(err.stack, abs) ?? shown;
  // slime's own API refusing a declaration already says what to do; keep its exit code.
  const exitCode = (e as { exitCode?: unknown }).exitCode;
  if (e instanceof SlimeError || typeof exitCode === 'number') {
    return new ModuleError(`${where}: ${err.message}`, e, typeof exitCode === 'number' ? exitCode : undefined);
  }
  const kind = err.name && err.name !== 'Error' ? `${err.name}: ` : '';
  return new ModuleError(`${where}: the module threw while it was evaluated: ${kind}${err.message}; fix the module (\`slime --debug\` shows the stack)`, e);
}

/** `file:line:col` of the first stack frame inside `abs` (or a module it imports from the same directory tree). */
function positionIn(stack: string | undefined, abs: string): string | undefined {
  if (stack === undefined) return undefined;
  const dir = path.dirname(abs);
  for (const m of stack.matchAll(/(?:\(|at )(?:file:\/\/)?(\/[^():\s]+\.[cm]?[jt]sx?):(\d+):(\d+)/g)) {
    const file = m[1]!;
    if (file === abs || (file.startsWith(dir + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`) && !isSlimeSource(file))) {
      return `${shownPath(file)}:${m[2]}:${m[3]}`;
    }
  }
  return undefined;
}

/** slime's own sources (the API a module imports) are not where the user's mistake is. */
function isSlimeSource(file: string): boolean {
  // src/ when run from the sources, dist/src/ when built; modules import src/derivation/api.ts.
  const here = path.dirname(path.dirname(new URL(import.meta.url).pathname));
  const root = path.basename(path.dirname(here)) === 'dist' ? path.dirname(path.dirname(here)) : path.dirname(here);
  return file.startsWith(here + path.sep) || file.startsWith(path.join(root, 'src') + path.sep);
}

const isDerivation = (v: unknown): v is Derivation =>
  typeof v === 'object' && v !== null && (v as Derivation).kind === 'derivation';

/** Checks what a module exports is what slime reads: `targets`, an array of `target(name, description, [derivations])`. */
export function checkTargets(value: unknown, abs: string): Target[] {
  const shown = shownPath(abs);
  const fix = "export `targets = [target('name', 'what it builds', [derivation, ...])]`";
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new ModuleError(`${shown}: \`targets\` is ${describeValue(value)}, not an array; ${fix}`);
  }
  value.forEach((t, i) => {
    const name = typeof t === 'object' && t !== null && typeof (t as Target).name === 'string' ? (t as Target).name : undefined;
    const which = name !== undefined ? `target "${name}"` : `targets[${i}]`;
    if (name === undefined) throw new ModuleError(`${shown}: ${which} is ${describeValue(t)}, not a target; ${fix}`);
    const ds = (t as Target).derivations;
    if (!Array.isArray(ds) || ds.length === 0) {
      throw new ModuleError(`${shown}: ${which} has no derivations; give it at least one: target('${name}', '...', [derivation])`);
    }
    ds.forEach((d, j) => {
      if (!isDerivation(d)) throw new ModuleError(`${shown}: ${which}'s derivation ${j + 1} is ${describeValue(d)}, not a derivation; pass what derivation() or fetchFile() returns`);
    });
  });
  return value as Target[];
}

/** `42`, `null`, `undefined`, `an object`, `a function`, `"text"`: a value named for an error message. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return 'an array';
  return 'an object';
}
