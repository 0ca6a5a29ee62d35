/**
 * A plan shaped like the isolate's real graph, with made-up store paths, for the
 * throughput benchmark and for exercising the views without running a build.
 */
import type { PlannedDerivation, SlimeEvent } from '../src/events.js';

export function syntheticDrvPath(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const hash = (h.toString(32) + 'q'.repeat(32)).slice(0, 32);
  return `/store/${hash}-${name}.drv`;
}

interface Spec {
  name: string;
  inputs?: string[];
  fixedOutput?: boolean;
  valid?: boolean;
  expectedMs?: number;
  phases?: string;
}

const ISOLATE_GRAPH: Spec[] = [
  { name: 'Python-3.11.2.tar.xz', fixedOutput: true, expectedMs: 6_000 },
  { name: 'python3.11', valid: true },
  { name: 'cargo-vendor', fixedOutput: true, expectedMs: 20_000 },
  { name: 'cpython-3.11.2-quick', inputs: ['Python-3.11.2.tar.xz'], expectedMs: 95_000, phases: 'cpython' },
  { name: 'cpython-3.11.2-pgo', inputs: ['Python-3.11.2.tar.xz'], expectedMs: 420_000, phases: 'cpython' },
  { name: 'isolate', inputs: ['cpython-3.11.2-pgo', 'cargo-vendor'], expectedMs: 140_000, phases: 'cargo' },
  { name: 'isolate-verify', inputs: ['isolate', 'python3.11', 'cpython-3.11.2-quick'], expectedMs: 30_000, phases: 'sample-comparison' },
];

/** The isolate graph plus `extra` independent leaf builds under the target, for wide trees. */
export function syntheticPlan(extra = 0): { target: string; derivations: PlannedDerivation[] } {
  const specs = ISOLATE_GRAPH.map((s) => ({ ...s }));
  const target = specs[specs.length - 1]!;
  const leaves = Array.from({ length: extra }, (_, i) => `lib${String(i + 1).padStart(2, '0')}`);
  for (const name of leaves) specs.splice(specs.length - 1, 0, { name, expectedMs: 5_000 });
  target.inputs = [...(target.inputs ?? []), ...leaves];
  const derivations = specs.map<PlannedDerivation>((s) => ({
    drvPath: syntheticDrvPath(s.name),
    name: s.name,
    outputs: { out: `/store/${syntheticDrvPath(s.name).slice(7, 39)}-${s.name}` },
    inputs: (s.inputs ?? []).map(syntheticDrvPath),
    fixedOutput: s.fixedOutput ?? false,
    valid: s.valid ?? false,
    expectedMs: s.expectedMs,
    phases: s.phases,
  }));
  return { target: syntheticDrvPath(target.name), derivations };
}

/** Compiler-like output: the kind of line a noisy `make` writes thousands of a second. */
export function syntheticLogLine(i: number): string {
  return `gcc -pthread -c -fno-strict-overflow -DNDEBUG -g -O3 -Wall -std=c11 -I./Include/internal -I. -IInclude Objects/obj${i % 977}.c -o Objects/obj${i % 977}.o`;
}

export function plannedEvent(time: number, extra = 0): SlimeEvent {
  const { target, derivations } = syntheticPlan(extra);
  return { type: 'planned', time, targets: [target], derivations };
}

/** The builds a noisy synthetic run shows running: their output is interleaved. */
export const NOISY_BUILDS = ['cpython-3.11.2-pgo', 'cpython-3.11.2-quick', 'cargo-vendor', 'lib01'].map(syntheticDrvPath);

/**
 * Emits lines `from` to `to - 1` of a noisy synthetic run (the planned event of
 * `plannedEvent(time, 20)` and a `started` for each of NOISY_BUILDS come first): most
 * from the one big build, as in a real run, and a phase tick every 500 lines.
 */
export function emitNoisyLines(emit: (event: SlimeEvent) => void, from: number, to: number, time: number): void {
  for (let i = from; i < to; i++) {
    const drvPath = NOISY_BUILDS[i % 10 < 7 ? 0 : i % NOISY_BUILDS.length]!;
    if (i % 500 === 0) emit({ type: 'phase', time, drvPath, phase: 'make', done: i / 500, total: 1000 });
    emit({ type: 'log', time, drvPath, stream: i % 13 === 0 ? 'stderr' : 'stdout', line: syntheticLogLine(i) });
  }
}
