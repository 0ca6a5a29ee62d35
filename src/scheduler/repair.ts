/**
 * `slime verify --repair`: what the store alone can fix. The caller holds the gc lock
 * exclusively. For each problem that verify found (src/store/verify.ts):
 *   - a path built by a derivation whose `.drv` is valid, and whose inputs are: built
 *     again from that `.drv` and put in place of the broken one (its registration is
 *     replaced, so paths that refer to it stay valid), as `nix-store --repair-path`;
 *   - anything else (a `.drv` file, a source, an added file, a path whose deriver is
 *     gone): cannot be remade from the store, so it is forgotten and deleted together
 *     with the valid paths that refer to it, and the user is told what to run to make
 *     it again (`slime realize` writes `.drv` files and sources anew).
 * Forgetting first, rebuilding second: a rebuild never starts from a broken `.drv`.
 */
import fs from 'node:fs';
import { parseDrv, type DrvData } from '../derivation/aterm.js';
import { realizeDerivation } from '../builder/realize-derivation.js';
import { releaseSandboxDirs } from '../builder/sandbox.js';
import type { Store } from '../store/store.js';
import type { VerifyProblem } from '../store/verify.js';

export async function repairProblems(store: Store, problems: VerifyProblem[], cores: number): Promise<void> {
  const rebuild: VerifyProblem[] = [];
  for (const p of problems) {
    if (p.path.endsWith('.drv') || !p.deriver) forgetWithReferrers(store, p);
  }
  const done = new Set<string>();
  for (const p of problems) {
    if (p.repaired || p.hint) continue;
    const drv = readDeriver(store, p);
    if (!drv) {
      forgetWithReferrers(store, p);
      continue;
    }
    rebuild.push(p);
    if (done.has(p.deriver!)) continue;
    done.add(p.deriver!);
    await rebuildFrom(store, p.deriver!, drv, rebuild.filter((r) => r.deriver === p.deriver), cores);
  }
  for (const p of rebuild) if (!p.repaired && !p.hint) p.hint = 'not repaired';
}

/** The parsed `.drv` that made `p`, if it is valid, present and readable; else the hint says why not. */
function readDeriver(store: Store, p: VerifyProblem): DrvData | undefined {
  const deriver = p.deriver!;
  if (!store.isValid(deriver)) {
    p.why = `its deriver ${deriver} is not valid in the store`;
    return undefined;
  }
  try {
    return parseDrv(fs.readFileSync(deriver, 'utf8'));
  } catch (e) {
    p.why = `its deriver ${deriver} cannot be read (${(e as Error).message})`;
    return undefined;
  }
}

async function rebuildFrom(store: Store, deriver: string, drv: DrvData, problems: VerifyProblem[], cores: number): Promise<void> {
  const inputPaths = [...drv.inputSrcs];
  for (const [inputDrv, outs] of Object.entries(drv.inputDrvs)) {
    try {
      const input = parseDrv(fs.readFileSync(inputDrv, 'utf8'));
      for (const o of outs) inputPaths.push(input.outputs[o].path);
    } catch {
      inputPaths.push(inputDrv);
    }
  }
  const missing = inputPaths.filter((x) => !store.isValid(x) || problems.some((p) => p.path === x));
  if (missing.length) {
    for (const p of problems) p.hint = `its inputs are not all valid (${missing.join(', ')}): run \`slime realize\` for the target, then \`slime verify --repair\` again`;
    return;
  }
  try {
    await realizeDerivation(
      { drvPath: deriver, name: drv.env.name ?? 'derivation', drv, inputPaths, repair: true },
      { store, emit: () => {}, cores, keepFailed: false, signal: new AbortController().signal },
    );
    for (const p of problems) {
      p.repaired = true;
      p.hint = `rebuilt from ${deriver}`;
    }
  } catch (e) {
    for (const p of problems) p.hint = `rebuilding it from ${deriver} failed: ${(e as Error).message}; see \`slime log ${deriver}\``;
  } finally {
    // The sandbox's kept directories go with the rebuild.
    releaseSandboxDirs();
  }
}

/** Forgets and deletes `p.path` and every valid path that refers to it, transitively. */
function forgetWithReferrers(store: Store, p: VerifyProblem): void {
  const going = new Set<string>();
  const stack = [p.path];
  while (stack.length) {
    const x = stack.pop()!;
    if (going.has(x)) continue;
    going.add(x);
    stack.push(...store.referrers(x));
  }
  store.forget([...going]);
  const others = going.size - 1;
  const also = others ? ` with the ${others} path(s) that refer to it` : '';
  const why = p.why ? ` (${p.why})` : '';
  p.repaired = true;
  p.hint =
    `cannot be remade from the store alone${why}, so it was forgotten and deleted${also}; ` +
    (p.path.endsWith('.drv')
      ? 'run `slime realize` for the target to write it again'
      : 'run `slime realize` for the target (sources and builds are made again) or `slime store add-file` for an added file');
}
