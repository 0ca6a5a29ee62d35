/**
 * Turns the derivations a target names into the graph the scheduler runs: every
 * derivation in their closure, in dependency order, with the `.drv` files written
 * into the store (as `nix-instantiate` does) so that a build can always be traced
 * back to, and redone from, its `.drv`.
 */
import fs from 'node:fs';
import type { Derivation, Source } from '../derivation/api.js';
import { serializeDrv, type DrvData } from '../derivation/aterm.js';
import type { PlannedDerivation } from '../events.js';
import { SlimeError } from '../errors.js';
import { sourceEntries } from '../derivation/sources.js';
import { toNixBase32 } from '../hash/base32.js';
import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';

export interface GraphNode {
  drvPath: string;
  name: string;
  drv: DrvData;
  /** `.drv` paths of the derivations this one needs. */
  inputs: string[];
  sources: Source[];
  /** Sources and input derivations' outputs. */
  inputPaths: string[];
  outputs: Record<string, string>;
  fixedOutput: boolean;
  phases?: string;
  /** Writes a sample comparison's report.json (DerivationSpec.comparesSamples). */
  comparesSamples?: boolean;
  timeoutMs?: number;
  /** Why its rebuilds are expected to differ (see DerivationSpec.nondeterministic). */
  nondeterministic?: string;
}

/** The closure of `roots`, dependencies before dependents. */
export function planGraph(roots: Derivation[]): GraphNode[] {
  const order: Derivation[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  /** The names on the way down: one array for the whole walk (a copy per step grew with the square of the depth). */
  const trail: string[] = [];
  const visit = (d: Derivation) => {
    const s = state.get(d.drvPath);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new SlimeError(`dependency cycle: ${[...trail, d.name].join(' -> ')}; a derivation cannot depend on itself`);
    }
    state.set(d.drvPath, 'visiting');
    trail.push(d.name);
    for (const i of d.inputDerivations) visit(i);
    trail.pop();
    state.set(d.drvPath, 'done');
    order.push(d);
  };
  for (const r of roots) visit(r);
  return order.map((d) => new PlannedNode(d));
}

/**
 * A node of a planned graph: its `.drv` contents are read from the derivation when the
 * node is built or its `.drv` written (a plan from the evaluation cache decodes them only
 * then, eval-cache.ts). A class, so the getter is on the prototype and every node has
 * the same map.
 */
class PlannedNode implements GraphNode {
  readonly drvPath: string;
  readonly name: string;
  readonly inputs: string[];
  readonly sources: Source[];
  readonly outputs: Record<string, string>;
  readonly fixedOutput: boolean;
  readonly phases: string | undefined;
  readonly comparesSamples: boolean | undefined;
  readonly timeoutMs: number | undefined;
  readonly nondeterministic: string | undefined;

  constructor(private readonly derivation: Derivation) {
    const d = derivation;
    this.drvPath = d.drvPath;
    this.name = d.name;
    this.inputs = d.inputDerivations.map((i) => i.drvPath);
    this.sources = d.sources;
    this.outputs = d.outputs;
    this.fixedOutput = Boolean(d.fixedOutput);
    this.phases = d.phases;
    this.comparesSamples = d.comparesSamples === true ? true : undefined;
    this.timeoutMs = d.timeoutMs;
    this.nondeterministic = d.nondeterministic;
  }

  get drv(): DrvData {
    return this.derivation.drv;
  }

  /** Needed to build the node only: a no-op reads it never. */
  get inputPaths(): string[] {
    const d = this.derivation;
    return [...d.sources.map((s) => s.storePath), ...d.inputDerivations.flatMap((i) => Object.values(i.outputs))];
  }
}

/** Store paths whose validity a run of `nodes` depends on: each `.drv`, each output and each source. */
export function pathsOf(nodes: GraphNode[]): string[] {
  const paths: string[] = [];
  for (const n of nodes) {
    paths.push(n.drvPath);
    for (const out of Object.values(n.outputs)) paths.push(out);
    for (const s of n.sources) paths.push(s.storePath);
  }
  return paths;
}

export function outputsValid(n: GraphNode, valid: Set<string>): boolean {
  for (const p of Object.values(n.outputs)) if (!valid.has(p)) return false;
  return true;
}

/** `valid`: the valid paths among pathsOf(nodes), as Store.validSet gives them. */
export function plannedEvent(nodes: GraphNode[], store: Store, valid = store.validSet(pathsOf(nodes))): PlannedDerivation[] {
  return nodes.map((n) => {
    const isValid = outputsValid(n, valid);
    return {
      drvPath: n.drvPath,
      name: n.name,
      outputs: n.outputs,
      inputs: n.inputs,
      fixedOutput: n.fixedOutput,
      valid: isValid,
      // Only what will be built needs an estimate.
      expectedMs: isValid ? undefined : store.expectedDuration(n.name),
      phases: n.phases,
      ...(n.comparesSamples === true ? { comparesSamples: true } : {}),
    };
  });
}

/** Whether every `.drv`, source and output of the graph is valid: a run that adds nothing. */
export function graphValid(nodes: GraphNode[], store: Store): boolean {
  return nodes.every(
    (n) => store.isValid(n.drvPath) && store.allValid(n.sources.map((s) => s.storePath)) && store.allValid(Object.values(n.outputs)),
  );
}

/**
 * Writes each `.drv` into the store as a valid text path (references: its inputs),
 * from a temporary of this process's own, so that concurrent planners never collide.
 * Its sources are added first: a path is registered only after what it refers to.
 * The caller holds the gc lock shared.
 */
export async function writeDrvFiles(nodes: GraphNode[], store: Store, valid = store.validSet(pathsOf(nodes))): Promise<void> {
  for (const n of nodes) {
    if (valid.has(n.drvPath)) continue;
    // Loaded only when a .drv is missing: a no-op loads no adder (nor the NAR code under it).
    const [{ addSource }, { addPath }] = await Promise.all([import('../store/add.js'), import('../store/add-path.js')]);
    for (const s of n.sources) await addSource(store, s.localPath, s.storePath, sourceEntries);
    const text = serializeDrv(n.drv);
    const temp = store.uniqueTempPath(n.drvPath);
    try {
      fs.writeFileSync(temp, text);
    } catch (e) {
      fs.rmSync(temp, { force: true });
      throw new SlimeError(`cannot write ${n.drvPath} to the store: ${(e as Error).message}`, (e as NodeJS.ErrnoException).code === 'ENOSPC' ? 100 : 1);
    }
    await addPath({
      store,
      tempPath: temp,
      finalPath: n.drvPath,
      referenceCandidates: [...n.drv.inputSrcs, ...Object.keys(n.drv.inputDrvs)],
      ca: () => `text:sha256:${toNixBase32(createHash('sha256').update(text).digest())}`,
    });
  }
}
