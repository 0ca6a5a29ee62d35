/**
 * The router's decision: which tier runs a script, and every reason why.
 *
 * Soundness over optimality (the seed reports' rule): the Light tier is chosen only
 * when nothing says its output could differ from python3.11's. Correctness reasons
 * (exception text, dynamic code, modules the Light tier lacks, a sample the Light
 * verification found different, a script that does not parse) send a script to Full,
 * or get it refused where only Light may run (`--platform wasm`). Speed reasons (a
 * hot loop, a Light run over the budget before) send it to Full on native hosts and
 * are only noted on wasm. With no reason against it a script runs on Light: the
 * wasm tier runs it inside wasmtime's sandbox, with only its own directory visible.
 *
 * Pure: every input is data, so the policy is tested without running anything.
 */
import type { StaticAnalysis } from './signals.js';

export type Tier = 'full' | 'light';
export type Platform = 'native' | 'wasm';

export interface Reason {
  /** What it is about: a static signal's kind, or `module`, `sample-comparison` (`verification` in records written before the rename), `profile`, `policy`. */
  kind: string;
  /** What the reason does to the decision. */
  effect: 'needs-full' | 'prefers-full' | 'note';
  detail: string;
  line?: number;
}

export interface LightCapabilities {
  /** Modules that failed to import on the Light tier, with the error the run gave. */
  missingModules: Record<string, string>;
  /** Content hashes (sha256 hex) of sample programs the Light tier's sample comparison found not bit-exact, with why. */
  differingSamples: Record<string, string>;
}

export interface ProfileSummary {
  /** Light runs of this script so far, and the slowest of them. */
  lightRuns: number;
  lightMaxMs?: number;
  fullRuns: number;
  fullMedianMs?: number;
}

export interface RouteInput {
  requested: Tier | 'auto';
  platform: Platform;
  budgetMs: number;
  scriptHash: string;
  /** The Light tier's sandbox sees only the working directory: a script elsewhere is invisible to it. */
  scriptInWorkingDir: boolean;
  analysis: StaticAnalysis;
  /** Absent when the Light tier is not realized (then auto cannot choose it). */
  light?: LightCapabilities;
  profile: ProfileSummary;
}

export type Decision =
  | { tier: Tier; reasons: Reason[] }
  | { tier: 'refused'; reasons: Reason[]; why: string };

export function route(input: RouteInput): Decision {
  const reasons = reasonsFor(input);
  const needsFull = reasons.filter((r) => r.effect === 'needs-full');
  const prefersFull = reasons.filter((r) => r.effect === 'prefers-full');

  if (input.requested === 'full') {
    if (input.platform === 'wasm') {
      return refuse(reasons, 'the Full tier is native code and cannot run on --platform wasm; use --tier light or auto');
    }
    return { tier: 'full', reasons: [{ kind: 'policy', effect: 'note', detail: '--tier full was asked for' }, ...reasons] };
  }
  if (input.requested === 'light') {
    return { tier: 'light', reasons: [{ kind: 'policy', effect: 'note', detail: '--tier light was asked for: the reasons below are not applied' }, ...reasons] };
  }
  if (input.platform === 'wasm') {
    if (needsFull.length > 0) {
      return refuse(reasons, `only the Light tier runs on --platform wasm, and it cannot run this script soundly: ${needsFull.map((r) => r.detail).join('; ')}`);
    }
    return { tier: 'light', reasons: [{ kind: 'policy', effect: 'note', detail: '--platform wasm: only the Light tier can run here' }, ...reasons] };
  }
  if (!input.light) {
    return { tier: 'full', reasons: [{ kind: 'policy', effect: 'needs-full', detail: 'no Light tier is declared (no light-wasm32 target), so nothing shows it would run this script soundly' }, ...reasons] };
  }
  if (needsFull.length > 0 || prefersFull.length > 0) return { tier: 'full', reasons };
  return { tier: 'light', reasons: [{ kind: 'policy', effect: 'note', detail: 'no signal against the Light tier: it runs sandboxed in wasmtime' }, ...reasons] };
}

function refuse(reasons: Reason[], why: string): Decision {
  return { tier: 'refused', reasons, why };
}

function reasonsFor(input: RouteInput): Reason[] {
  const reasons: Reason[] = [];
  const { analysis, light, profile } = input;
  if (!analysis.ok) {
    reasons.push({ kind: 'syntax', effect: 'needs-full', line: analysis.line, detail: `the script does not parse (${analysis.error}): only CPython's own error message is certain` });
  } else {
    for (const s of analysis.signals) {
      switch (s.kind) {
        case 'exception-text':
          reasons.push({ kind: s.kind, effect: 'needs-full', line: s.line, detail: `output may depend on exception text: ${s.detail}` });
          break;
        case 'dynamic-code':
          reasons.push({ kind: s.kind, effect: 'needs-full', line: s.line, detail: `dynamic code: ${s.detail}` });
          break;
        case 'host-query':
          reasons.push({ kind: s.kind, effect: 'needs-full', line: s.line, detail: `asks about the host: ${s.detail}` });
          break;
        case 'hot-loop':
          reasons.push({ kind: s.kind, effect: 'prefers-full', line: s.line, detail: `hot loop: ${s.detail}` });
          break;
        case 'unknown-bound':
        case 'recursion':
          reasons.push({ kind: s.kind, effect: 'note', line: s.line, detail: `${s.detail}: the run-time profile decides` });
          break;
      }
    }
    if (light) {
      for (const m of analysis.imports) {
        const missing = missingModule(m, light.missingModules);
        if (missing) reasons.push({ kind: 'module', effect: 'needs-full', detail: `imports ${m}, which the Light tier does not have (${missing})` });
      }
    }
  }
  if (!input.scriptInWorkingDir) {
    reasons.push({ kind: 'sandbox', effect: 'needs-full', detail: 'the script is outside the working directory, the only host directory the Light sandbox shows; run it from its own directory' });
  }
  const differs = light?.differingSamples[input.scriptHash];
  if (differs) reasons.push({ kind: 'sample-comparison', effect: 'needs-full', detail: `the Light tier's sample comparison found this program different: ${differs}` });
  if (profile.lightMaxMs !== undefined && profile.lightMaxMs > input.budgetMs) {
    reasons.push({ kind: 'profile', effect: 'prefers-full', detail: `learned: an earlier Light run took ${Math.round(profile.lightMaxMs)} ms, over the ${input.budgetMs} ms budget` });
  } else if (profile.lightRuns > 0) {
    reasons.push({ kind: 'profile', effect: 'note', detail: `${plural(profile.lightRuns, 'earlier Light run')} within the ${input.budgetMs} ms budget (slowest ${Math.round(profile.lightMaxMs ?? 0)} ms)` });
  }
  return reasons;
}

/** `a.b.c` is missing when it or any parent package is: `xml.dom` needs `xml`. */
function missingModule(name: string, missing: Record<string, string>): string | undefined {
  const parts = name.split('.');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('.');
    if (missing[prefix]) return missing[prefix];
  }
  return undefined;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
