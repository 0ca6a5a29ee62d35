/**
 * `slime verify`: every valid path is rehashed and compared with its registered
 * NAR hash. Repair rebuilds from the path's deriver, read back from its `.drv` file,
 * so it needs no derivation module: the store alone says how to remake what it holds.
 */
import fs from 'node:fs';
import { hashPath } from '../nar/hash.js';
import { parseDrv } from '../derivation/aterm.js';
import { realizeDerivation } from '../builder/realize-derivation.js';
import { sriOf } from '../builder/hashes.js';
import { removeTree, type PathInfo, type Store } from './store.js';

export interface VerifyProblem {
  path: string;
  problem: string;
  repaired: boolean;
  hint?: string;
}

export async function verifyStore(
  store: Store,
  opts: { repair: boolean; cores: number; onProblem: (p: VerifyProblem) => void },
): Promise<{ checked: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const infos = store.validPaths();
  for (const info of infos) {
    const problem = await checkPath(info);
    if (!problem) continue;
    const p: VerifyProblem = { path: info.path, problem, repaired: false };
    if (opts.repair) await repair(store, info, p, opts.cores);
    problems.push(p);
    opts.onProblem(p);
  }
  return { checked: infos.length, problems };
}

async function checkPath(info: PathInfo): Promise<string | undefined> {
  if (!fs.existsSync(info.path)) return 'missing from the store directory';
  const { narHash, narSize } = await hashPath(info.path);
  const actual = sriOf(narHash);
  if (actual !== info.narHash || narSize !== info.narSize) {
    return `contents changed: NAR hash ${actual} (${narSize} bytes), registered ${info.narHash} (${info.narSize} bytes)`;
  }
  return undefined;
}

async function repair(store: Store, info: PathInfo, p: VerifyProblem, cores: number): Promise<void> {
  const deriver = info.deriver && store.isValid(info.deriver) ? info.deriver : undefined;
  if (!deriver) {
    p.hint = 'it was added, not built: run `slime realize` (sources) or `slime store add-file` again';
    return;
  }
  const drv = parseDrv(fs.readFileSync(deriver, 'utf8'));
  const inputPaths = [...drv.inputSrcs];
  for (const [inputDrv, outs] of Object.entries(drv.inputDrvs)) {
    const input = parseDrv(fs.readFileSync(inputDrv, 'utf8'));
    for (const o of outs) inputPaths.push(input.outputs[o].path);
  }
  const missing = inputPaths.filter((x) => !store.isValid(x));
  if (missing.length) {
    p.hint = `its inputs are not all valid (${missing.join(', ')}): run \`slime realize\` for the target`;
    return;
  }
  for (const out of Object.values(drv.outputs)) {
    store.invalidate(out.path);
    removeTree(out.path);
  }
  const name = drv.env.name ?? 'derivation';
  try {
    await realizeDerivation(
      { drvPath: deriver, name, drv, inputPaths },
      { store, emit: () => {}, cores, keepFailed: false, signal: new AbortController().signal },
    );
    p.repaired = true;
  } catch (e) {
    p.hint = `rebuilding it failed: ${(e as Error).message}; see \`slime log ${deriver}\``;
  }
}
