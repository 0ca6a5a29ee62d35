/**
 * The graph of `.drv` files already in the store, read back without the module that
 * declared them: what `slime realize /store/<hash>-x.drv` builds, as
 * `nix-store --realise` does. Sources (`inputSrcs`) must already be valid, as they
 * are once any run wrote the `.drv`; phase recognizers and timeouts, which ride
 * beside the ATerm, are not in it, so such a build runs without them.
 */
import fs from 'node:fs';
import { parseDrv } from '../derivation/aterm.js';
import { SlimeError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { GraphNode } from './plan.js';

/** The closure of `roots` (`.drv` store paths), dependencies before dependents. */
export function graphFromStoreDrvs(store: Store, roots: string[]): GraphNode[] {
  const order: GraphNode[] = [];
  const seen = new Set<string>();
  const visit = (drvPath: string, trail: string[]): void => {
    if (seen.has(drvPath)) return;
    seen.add(drvPath);
    let text: string;
    try {
      text = fs.readFileSync(drvPath, 'utf8');
    } catch {
      const from = trail.length > 0 ? ` (an input of ${trail.at(-1)})` : '';
      throw new SlimeError(`${drvPath}${from} is not in the store ${store.dir}; realize the target that declares it, or pass -f FILE`);
    }
    const drv = parseDrv(text);
    for (const input of Object.keys(drv.inputDrvs)) visit(input, [...trail, drvPath]);
    const missing = drv.inputSrcs.filter((s) => !store.isValid(s));
    if (missing.length > 0) {
      throw new SlimeError(`${drvPath} needs sources that are not valid in the store (${missing.join(', ')}); realize its target with its module (-f FILE) instead`);
    }
    const inputOutputs = Object.entries(drv.inputDrvs).flatMap(([input, outs]) => {
      const inputDrv = parseDrv(fs.readFileSync(input, 'utf8'));
      return outs.map((o) => inputDrv.outputs[o]!.path);
    });
    order.push({
      drvPath,
      name: drv.env.name ?? drvPath.replace(/^.*\/[0-9a-z]{32}-/, '').replace(/\.drv$/, ''),
      drv,
      inputs: Object.keys(drv.inputDrvs),
      sources: [],
      inputPaths: [...drv.inputSrcs, ...inputOutputs],
      outputs: Object.fromEntries(Object.entries(drv.outputs).map(([k, v]) => [k, v.path])),
      fixedOutput: Object.values(drv.outputs).some((o) => o.hash !== ''),
    });
  };
  for (const r of roots) visit(r, []);
  return order;
}
