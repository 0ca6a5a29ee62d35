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
}

export function targetStates(mod: LoadedModule, store: Store): TargetState[] {
  return mod.targets.map((t) => {
    const nodes = planGraph(t.derivations);
    const valid = nodes.filter((n) => store.allValid(Object.values(n.outputs))).length;
    const state = valid === nodes.length ? 'realized' : valid > 0 ? 'partly' : 'not yet';
    return { name: t.name, description: t.description, state, valid, total: nodes.length };
  });
}
