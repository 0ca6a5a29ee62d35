import type { LoadedModule } from '../derivation/load.js';
import { planGraph } from '../scheduler/plan.js';
import type { Store } from '../store/store.js';

export interface TargetState {
  name: string;
  description: string;
  state: 'realized' | 'partly' | 'not yet';
  /** Derivations of the target's closure whose outputs are valid, of all. */
  valid: number;
  total: number;
  /** The latest `slime check` of the closure's derivations, when any was checked. */
  check?: TargetCheck;
}

/** Counts of the latest check verdict of each derivation of a target's closure that was checked. */
export interface TargetCheck {
  /** differs if any differs; failed if any rebuild failed; else equal. */
  verdict: 'equal' | 'differs' | 'failed';
  /** Derivations with a check record, of `of` (the closure). */
  checked: number;
  of: number;
  equal: number;
  differs: number;
  expectedToDiffer: number;
  /** Declared nondeterministic, not rebuilt. */
  skipped: number;
  failed: number;
  /** The most rounds any of them was rebuilt in its latest check. */
  rounds: number;
  /** When the latest of them ended (Unix ms). */
  time: number;
}

export function targetStates(mod: LoadedModule, store: Store): TargetState[] {
  return mod.targets.map((t) => {
    const nodes = planGraph(t.derivations);
    // One query for the closure's outputs, not one per path.
    const validPaths = store.validSet(nodes.flatMap((n) => Object.values(n.outputs)));
    const valid = nodes.filter((n) => Object.values(n.outputs).every((p) => validPaths.has(p))).length;
    // Realized when the target's own outputs are: its build-only inputs may be absent (a target
    // substituted from a cache never fetched them; a gc may have deleted them), as in Nix.
    const own = t.derivations.every((d) => Object.values(d.outputs).every((p) => validPaths.has(p)));
    const state = own ? 'realized' : valid > 0 ? 'partly' : 'not yet';
    const check = targetCheck(store, nodes.map((n) => n.drvPath));
    return { name: t.name, description: t.description, state, valid, total: nodes.length, ...(check ? { check } : {}) };
  });
}

function targetCheck(store: Store, drvPaths: string[]): TargetCheck | undefined {
  const latest = store.db.latestChecks(drvPaths);
  const records = drvPaths.flatMap((d) => latest.get(d) ?? []);
  if (records.length === 0) return undefined;
  const n = (...v: string[]) => records.filter((r) => v.includes(r.verdict)).length;
  const differs = n('differs', 'cache-differs');
  const failed = n('failed');
  return {
    verdict: differs ? 'differs' : failed ? 'failed' : 'equal',
    checked: records.length,
    of: drvPaths.length,
    equal: n('equal', 'fixed-output-ok', 'cache-equal'),
    differs,
    expectedToDiffer: n('expected-to-differ'),
    skipped: n('skipped'),
    failed,
    rounds: Math.max(...records.map((r) => r.rounds)),
    time: Math.max(...records.map((r) => r.time)),
  };
}

/** `checked 8/8: 7 equal, 1 differs as declared` (or `not checked`). */
export function describeTargetCheck(c: TargetCheck | undefined): string {
  if (!c) return 'not checked';
  const parts = [`${c.equal} equal`];
  if (c.differs) parts.push(`${c.differs} DIFFER`);
  if (c.expectedToDiffer) parts.push(`${c.expectedToDiffer} differs as declared`);
  if (c.skipped) parts.push(`${c.skipped} not rebuilt (declared nondeterministic)`);
  if (c.failed) parts.push(`${c.failed} failed`);
  return `checked ${c.checked}/${c.of}: ${parts.join(', ')}`;
}
