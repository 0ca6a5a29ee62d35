/**
 * The local files a derivation module imports, transitively: what its evaluation can
 * depend on besides `source()` paths and host tools (see eval-cache.ts).
 *
 * Specifiers are found by pattern rather than by parsing, which may over-approximate
 * (an import in a comment): that only makes the cache more careful. Bare specifiers
 * (npm packages, `node:` modules) are not followed; relative and absolute ones are,
 * with TypeScript's mapping of `.js` specifiers to `.ts` files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SPECIFIER = /\b(?:from|import|require)\s*\(?\s*(['"])([^'"\n]+)\1/g;

export function importGraph(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [path.resolve(entry)];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(SPECIFIER)) {
      for (const f of resolveLocal(path.dirname(file), m[2])) if (!seen.has(f)) stack.push(f);
    }
  }
  return [...seen].sort();
}

/** The existing files `spec` may name from `dir`; none for a package or builtin. */
function resolveLocal(dir: string, spec: string): string[] {
  let base: string;
  if (spec.startsWith('file:')) base = fileURLToPath(spec);
  else if (spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..') base = path.resolve(dir, spec);
  else if (spec.startsWith('/')) base = spec;
  else return [];
  const candidates = [base];
  const ext = path.extname(base);
  const stem = base.slice(0, base.length - ext.length);
  if (ext === '.js') candidates.push(`${stem}.ts`, `${stem}.tsx`);
  else if (ext === '.mjs') candidates.push(`${stem}.mts`);
  else if (ext === '.cjs') candidates.push(`${stem}.cts`);
  else if (ext === '.jsx') candidates.push(`${stem}.tsx`);
  if (!['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx', '.json'].includes(ext)) {
    for (const e of ['.ts', '.tsx', '.js', '.mjs', '.json']) candidates.push(base + e);
    for (const e of ['index.ts', 'index.tsx', 'index.js']) candidates.push(path.join(base, e));
  }
  return candidates.filter((c) => {
    try {
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
}
