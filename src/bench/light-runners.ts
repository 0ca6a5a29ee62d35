/**
 * The Light tier's runners outside a bench target's own graph: `slime bench
 * light-wasm32` also times RustPython's runners (target light-rustpython, opt-in and
 * long to build) when they are already built in the store, and says which are not.
 * A runner is a launcher (derivations/light/launcher.sh) that names itself in its
 * environment: runnerLabel and runtime.
 */
import path from 'node:path';
import { allDerivations, type LoadedModule } from '../derivation/load.js';
import type { Store } from '../store/store.js';
import type { Interpreter } from './run-bench.js';

export interface OtherRunners {
  /** Built: timed with the target's own. */
  built: Interpreter[];
  /** Labels of the runners not built yet. */
  missing: string[];
}

export function otherLightRunners(mod: LoadedModule, ownDrvPaths: ReadonlySet<string>, store: Store): OtherRunners {
  const built: Interpreter[] = [];
  const missing: string[] = [];
  for (const d of allDerivations(mod)) {
    const { runnerLabel, runtime } = d.drv.env;
    if (runnerLabel === undefined || runtime === undefined || ownDrvPaths.has(d.drvPath)) continue;
    if (store.isValid(d.out)) built.push({ label: runnerLabel, command: path.join(d.out, 'bin/python3.11') });
    else missing.push(runnerLabel);
  }
  return { built, missing };
}
