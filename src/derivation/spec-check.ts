/**
 * The shape of what a module passes to derivation() and fetchFile(), checked before
 * anything is read from it: TypeScript modules load without type checking (and
 * JavaScript ones have none), so a missing `builder`, `args` given as one string or
 * `urls` where `mirrors` is meant must be said as the mistake it is, naming the
 * derivation and the field, not as a TypeError from inside slime.
 */
import { SlimeError } from '../errors.js';
import type { DerivationSpec } from './api.js';
import { describeValue } from './module-errors.js';

type Kind = 'string' | 'strings' | 'array' | 'object' | 'boolean' | 'number';
type Field = { kind: Kind; required?: boolean; what: string };

/** Every field of DerivationSpec (and fetchFile's `mirrors`): a field added to the API and not here does not compile. */
const DERIVATION_FIELDS: Record<keyof DerivationSpec | 'mirrors', Field> = {
  name: { kind: 'string', required: true, what: "a store path name, e.g. 'hello-1.0'" },
  builder: { kind: 'string', required: true, what: "an absolute path or a declared host tool, e.g. '/bin/sh'" },
  args: { kind: 'array', what: "a list, e.g. ['-c', 'echo hi > $out']" },
  env: { kind: 'object', what: 'an object of names to values' },
  tools: { kind: 'strings', what: "a list of host tool names, e.g. ['make', 'gcc']" },
  outputs: { kind: 'strings', what: "a list of output names, e.g. ['out', 'dev']" },
  outputHash: { kind: 'object', what: "{ hash: 'sha256-...', mode?: 'flat' | 'recursive' }" },
  phases: { kind: 'string', what: "the name of a phase recognizer, e.g. 'cpython'" },
  comparesSamples: { kind: 'boolean', what: 'true or false' },
  timeoutMs: { kind: 'number', what: 'a number of milliseconds' },
  nondeterministic: { kind: 'string', what: 'why a rebuild gives other bytes' },
  mirrors: { kind: 'array', what: 'a list of mirrors' },
};

const FETCH_FIELDS: Record<'name' | 'sha256' | 'mirrors', Field> = {
  name: { kind: 'string', required: true, what: "a file name, e.g. 'Python-3.11.2.tar.xz'" },
  sha256: { kind: 'string', required: true, what: "the file's hash, 'sha256-...' (SRI) or hex" },
  mirrors: { kind: 'array', required: true, what: "a list of mirrors, e.g. [{ url: 'https://...' }]" },
};

function fits(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string';
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
  }
}

function check(call: string, spec: unknown, fields: Record<string, Field>): void {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new SlimeError(`${call}() takes an object, not ${describeValue(spec)}; pass ${call}({ name: '...', ... })`);
  }
  const s = spec as Record<string, unknown>;
  const named = typeof s.name === 'string' ? `${call} ${s.name}` : `${call}()`;
  // A misspelt field first: it is usually why a required one is missing (`urls` for `mirrors`).
  const unknown = Object.keys(s).filter((k) => !(k in fields));
  if (unknown.length > 0) {
    const known = Object.keys(fields).join(', ');
    throw new SlimeError(`${named}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `\`${k}\``).join(', ')}; the fields are ${known}`);
  }
  for (const [key, field] of Object.entries(fields)) {
    const v = s[key];
    if (v === undefined) {
      if (field.required) throw new SlimeError(`${named}: \`${key}\` is missing; give it ${field.what}`);
      continue;
    }
    if (!fits(v, field.kind)) throw new SlimeError(`${named}: \`${key}\` is ${describeValue(v)}; give it ${field.what}`);
  }
}

/** Checks derivation()'s argument; throws a SlimeError that names the derivation and the field. */
export function checkDerivationSpec(spec: unknown): void {
  check('derivation', spec, DERIVATION_FIELDS);
}

/** Checks fetchFile()'s argument the same way. */
export function checkFetchSpec(spec: unknown): void {
  check('fetchFile', spec, FETCH_FIELDS);
}
