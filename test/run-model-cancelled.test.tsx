/** The run model and the TUI say "cancelled" for what the run stopped: not failed, not skipped, not red. */
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { counts, initialState, reduceAll } from '../src/run/state.js';
import { STATUS_STYLE } from '../tui/theme.js';
import { failureModels, rowModels } from '../tui/view-model.js';
import { Summary } from '../tui/components/Summary.js';
import { syntheticDrvPath as p } from '../tui/synthetic.js';

const T0 = 1_700_000_000_000;
const [broken, slow, waiting] = [p('broken'), p('slow'), p('waiting')];

const events: SlimeEvent[] = [
  {
    type: 'planned',
    time: T0,
    targets: [broken, slow, waiting],
    derivations: [broken, slow, waiting].map((drvPath) => ({ drvPath, name: drvPath.replace(/^.*?-|\.drv$/g, ''), outputs: {}, inputs: [], fixedOutput: false, valid: false })),
  },
  { type: 'started', time: T0, drvPath: broken, action: 'build' },
  { type: 'started', time: T0, drvPath: slow, action: 'build' },
  { type: 'failed', time: T0 + 1000, drvPath: broken, reason: { kind: 'exit', exitCode: 1, signal: null } },
  { type: 'cancelled', time: T0 + 1100, drvPath: slow, becauseOf: broken },
  { type: 'cancelled', time: T0 + 1100, drvPath: waiting, becauseOf: broken },
  { type: 'finished', time: T0 + 1100, built: 0, cached: 0, substituted: 0, failed: 1, skipped: 0, cancelled: 2, wallMs: 1100, results: {} },
];

describe('cancelled in the run model and the TUI', () => {
  it('folds cancelled events into their own state and count', () => {
    const s = reduceAll(initialState(T0), events);
    expect(s.derivations[slow]!.status).toBe('cancelled');
    expect(s.derivations[slow]!.cancelledBecauseOf).toBe(broken);
    expect(counts(s)).toMatchObject({ failed: 1, cancelled: 2, skipped: 0 });
    expect(s.finished?.cancelled).toBe(2);
    // Only the real failure is listed as one.
    expect(failureModels(s).map((f) => f.drvPath)).toEqual([broken]);
    const rows = rowModels(s, T0 + 2000);
    expect(rows.find((r) => r.drvPath === slow)).toMatchObject({ status: 'cancelled', detail: 'cancelled after a failure' });
  });

  it('is drawn apart from failures, and counted in the summary', () => {
    expect(STATUS_STYLE.cancelled.color).not.toBe('red');
    expect(STATUS_STYLE.cancelled.symbol).not.toBe(STATUS_STYLE.failed.symbol);
    const s = reduceAll(initialState(T0), events);
    const { lastFrame } = render(<Summary summary={s.finished!} />);
    expect(lastFrame()).toContain('1 failed, 2 cancelled');
  });
});
