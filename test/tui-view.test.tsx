import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { RealizeView } from '../tui/components/RealizeView.js';
import { initialState, reduceAll } from '../tui/state.js';
import { plannedEvent, syntheticDrvPath as p } from '../tui/synthetic.js';

const T0 = 1_700_000_000_000;

describe('scratch', () => {
  it('renders', () => {
    const events: SlimeEvent[] = [
      plannedEvent(T0, 3),
      { type: 'started', time: T0, drvPath: p('Python-3.11.2.tar.xz'), action: 'fetch' },
      { type: 'progress', time: T0 + 100, drvPath: p('Python-3.11.2.tar.xz'), direction: 'download', bytes: 12.3 * 2 ** 20, total: 25.1 * 2 ** 20, bytesPerSecond: 4.2 * 2 ** 20 },
      { type: 'started', time: T0, drvPath: p('lib01'), action: 'build' },
      { type: 'phase', time: T0, drvPath: p('lib01'), phase: 'make' },
      { type: 'log', time: T0, drvPath: p('lib01'), stream: 'stdout', line: 'gcc -c foo.c' },
      { type: 'failed', time: T0 + 3000, drvPath: p('lib02'), reason: { kind: 'exit', exitCode: 2, signal: null }, phase: 'make', logPath: '/logs/lib02.log' },
    ];
    const state = reduceAll(initialState(T0), events);
    const { lastFrame } = render(<RealizeView state={state} now={T0 + 5000} width={100} height={30} />);
    console.log(lastFrame());
  });
});
