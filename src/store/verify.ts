/**
 * `slime verify`: every registration is read back and every valid path rehashed and
 * compared with its registered NAR hash. This module only finds problems; repairing
 * (rebuilding from a deriver) is the business of the layer above the builder
 * (src/scheduler/repair.ts).
 */
import fs from 'node:fs';
import { hashPath } from '../nar/hash.js';
import { sriOf } from './add-path.js';
import type { Store } from './store.js';

export interface VerifyProblem {
  path: string;
  kind: 'damaged-entry' | 'missing' | 'changed';
  problem: string;
  /** The `.drv` that produced the path, as registered (maybe itself invalid). */
  deriver?: string;
  repaired: boolean;
  /** What repair did, or what the user must do. */
  hint?: string;
  /** Why it could not be rebuilt (filled in by repair). */
  why?: string;
}

export async function findProblems(store: Store, onProblem: (p: VerifyProblem) => void = () => {}): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const report = (p: VerifyProblem) => {
    problems.push(p);
    onProblem(p);
  };
  const { valid, damaged } = store.entries();
  for (const d of damaged) {
    report({ path: d.path, kind: 'damaged-entry', problem: `its metadata entry is damaged: ${d.problem}`, deriver: d.deriver, repaired: false });
  }
  for (const info of valid) {
    const problem = await checkPath(info.path, info.narHash, info.narSize);
    if (problem) report({ path: info.path, ...problem, deriver: info.deriver, repaired: false });
  }
  return { checked: valid.length + damaged.length, problems };
}

async function checkPath(p: string, narHash: string, narSize: number): Promise<Pick<VerifyProblem, 'kind' | 'problem'> | undefined> {
  try {
    fs.lstatSync(p);
  } catch {
    return { kind: 'missing', problem: 'missing from the store directory' };
  }
  try {
    const actual = await hashPath(p);
    const sri = sriOf(actual.narHash);
    if (sri !== narHash || actual.narSize !== narSize) {
      return { kind: 'changed', problem: `contents changed: NAR hash ${sri} (${actual.narSize} bytes), registered ${narHash} (${narSize} bytes)` };
    }
  } catch (e) {
    return { kind: 'changed', problem: `cannot be serialised: ${(e as Error).message}` };
  }
  return undefined;
}
