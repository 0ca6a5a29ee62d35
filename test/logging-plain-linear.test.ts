/**
 * The plain logger's cost grows with the events, not with events x derivations:
 * it keeps one fold open for the whole run. Folding with `reduce` per event (what it
 * did before) copies the map of every derivation each time: ~600 ms of a no-op
 * realize of a 1000-derivation graph. Counted, not timed: the number of folds opened.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { PlannedDerivation, SlimeEvent } from '../src/events.js';

const opened = { batches: 0, applied: 0 };
vi.mock('../src/run/state.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/run/state.js')>();
  class CountedBatch extends actual.Batch {
    constructor(...args: ConstructorParameters<typeof actual.Batch>) {
      super(...args);
      opened.batches++;
    }
    override apply(...args: Parameters<InstanceType<typeof actual.Batch>['apply']>) {
      opened.applied++;
      super.apply(...args);
    }
  }
  // `reduce` and `reduceAll` each open (and close) a fold per call.
  const reduce: typeof actual.reduce = (state, event) => (opened.batches++, actual.reduce(state, event));
  const reduceAll: typeof actual.reduceAll = (state, events) => (opened.batches++, actual.reduceAll(state, events));
  return { ...actual, Batch: CountedBatch, reduce, reduceAll };
});

const { plainLogger } = await import('../src/logging/plain.js');
const { Batch, initialState } = await import('../src/run/state.js');

const T0 = 1_700_000_000_000;
const drv = (i: number) => `/store/${String(i).padStart(32, 'a')}-d${i}.drv`;

function noOpRun(n: number): SlimeEvent[] {
  const derivations: PlannedDerivation[] = Array.from({ length: n }, (_, i) => ({
    drvPath: drv(i),
    name: `d${i}`,
    outputs: { out: drv(i).replace(/\.drv$/, '') },
    inputs: i > 0 ? [drv(i - 1)] : [],
    fixedOutput: false,
    valid: true,
  }));
  return [
    // A target by its name (as `slime realize graph` gives it) and one by its .drv path.
    { type: 'planned', time: T0, targets: ['graph', drv(n - 1)], derivations },
    ...derivations.map((d): SlimeEvent => ({ type: 'cached', time: T0 + 1, drvPath: d.drvPath, outputs: d.outputs })),
    { type: 'finished', time: T0 + 2, built: 0, cached: n, substituted: 0, failed: 0, skipped: 0, cancelled: 0, wallMs: 2, results: {} },
  ];
}

describe('plain logger cost', () => {
  it('opens one fold for a whole run of a 1000-derivation graph, not one per event, and gives it nothing in a no-op', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c));
    opened.batches = 0;
    opened.applied = 0;
    const sink = plainLogger(out);
    for (const e of noOpRun(1000)) sink.emit(e);
    await sink.close?.();
    expect(opened.batches).toBe(1);
    // What it says of a no-op needs no model of the run: its plan is given to the model when something does.
    expect(opened.applied).toBe(0);
    expect(text).toContain('slime: 1000 derivations for graph, d999: 0 to do, 1000 already valid');
    expect(text).toContain('slime: 0 built, 1000 cached, 0 substituted in ');
  });

  it('never copies the map of derivations after the plan (peek is the open fold, not a copy)', () => {
    const model = new Batch(initialState(T0));
    const [planned, ...rest] = noOpRun(50);
    model.apply(planned!);
    const map = model.peek().derivations;
    for (const e of rest) model.apply(e);
    expect(model.peek().derivations).toBe(map);
    expect(Object.values(map).every((d) => d.status === 'cached')).toBe(true);
  });
});
