/**
 * The static pass of the Full/Light router: what a script's AST says about where it may
 * run. The AST is read by `analyze.py` (beside this module's source) under the Full
 * tier's own CPython 3.11, so the grammar is exactly the one the script runs under;
 * analyze.py's header documents the signal kinds and the JSON it prints.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { SlimeError } from '../errors.js';

export type SignalKind = 'exception-text' | 'dynamic-code' | 'hot-loop' | 'unknown-bound' | 'recursion' | 'host-query';

export interface StaticSignal {
  kind: SignalKind;
  line: number;
  detail: string;
  /** For hot loops: the constant iteration count that made it hot. */
  iterations?: number;
}

export type StaticAnalysis =
  | { ok: true; signals: StaticSignal[]; imports: string[] }
  | { ok: false; error: string; line: number };

/** analyze.py lives in src/router/; this module runs from src/ (tsx), dist/src/ (tsc) or dist/bin/ (the bundle). */
export function analyzerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, 'analyze.py'), path.resolve(here, '../../../src/router/analyze.py'), path.resolve(here, '../../src/router/analyze.py')]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new SlimeError(`the router's analyzer (src/router/analyze.py) is missing beside ${here}; reinstall slime`);
}

/** Parses `script` with `python` (the Full tier's python3.11) and returns its signals. */
export function analyzeScript(python: string, script: string): StaticAnalysis {
  let out: string;
  try {
    out = execFileSync(python, ['-I', analyzerScript(), script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new SlimeError(`cannot analyze ${script} with ${python}: ${(err.stderr || err.message).trim()}`);
  }
  const parsed = JSON.parse(out) as StaticAnalysis;
  return parsed;
}
