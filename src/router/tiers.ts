/**
 * The realized tiers as the router runs them: where the binaries are in the store and
 * how to start one on a script. Found from a target's derivations, never from copies:
 * the store path is what runs.
 */
import path from 'node:path';
import { SlimeError } from '../errors.js';
import type { GraphNode } from '../scheduler/plan.js';
import type { Store } from '../store/store.js';
import type { LightCapabilities } from './policy.js';
import type { TierCommand } from './run-script.js';

export interface RealizedTier {
  tier: 'full' | 'light';
  /** The Full tier's python3.11: the router parses scripts with it. */
  python: string;
  command(script: string, args: string[], cwd: string): TierCommand;
  capabilities?: LightCapabilities;
}

/** The Full tier of a target that verifies an isolate (full-x86_64, full-x86_64-quick). */
export function fullTierOf(nodes: GraphNode[], target: string): RealizedTier {
  const verify = nodes.find((n) => n.drv.env.isolate && n.drv.env.python);
  if (!verify) throw new SlimeError(`target ${target} holds no isolate verification, so it is not a Full tier; pass --full full-x86_64 or full-x86_64-quick`);
  const { python, isolate } = verify.drv.env;
  return {
    tier: 'full',
    python: path.join(python, 'bin/python3.11'),
    command: (script, args) => ({ file: path.join(isolate, 'bin/isolate'), args: [script, ...args] }),
  };
}

export async function lightTierOf(nodes: GraphNode[], target: string, store: Store, python: string): Promise<RealizedTier> {
  void nodes;
  void store;
  void python;
  throw new SlimeError(`target ${target} is not a Light tier this slime can run yet; pass --tier full`);
}
