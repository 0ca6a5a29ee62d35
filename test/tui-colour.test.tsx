import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { initialState, reduceAll } from '../src/run/state.js';
import { plannedEvent, syntheticDrvPath as p } from '../tui/synthetic.js';

// Colour support is decided when chalk is first imported: force it before Ink loads.
process.env['FORCE_COLOR'] = '1';
const { render } = await import('ink-testing-library');
const { RealizeView } = await import('../tui/components/RealizeView.js');
const { STATUS_STYLE } = await import('../tui/theme.js');
const { BenchPanel } = await import('../tui/components/BenchPanel.js');

const T0 = 1_700_000_000_000;
const SGR: Record<string, string> = { green: '\x1b[32m', yellow: '\x1b[33m', cyan: '\x1b[36m', red: '\x1b[31m', gray: '\x1b[90m' };

describe('colours', () => {
  it('colour each state by meaning: green done, yellow running, cyan moving bytes, red failed, grey nothing done', () => {
    expect(Object.fromEntries(Object.entries(STATUS_STYLE).map(([status, style]) => [status, style.color ?? 'default']))).toEqual({
      planned: 'default',
      'lock-wait': 'yellow',
      building: 'yellow',
      fetching: 'cyan',
      substituting: 'cyan',
      built: 'green',
      substituted: 'green',
      cached: 'gray',
      failed: 'red',
      skipped: 'gray',
      // Cancelled by the run, not failed on its own: never the red of a failure.
      cancelled: 'yellow',
      // Nothing done, nothing to do: grey, as cached.
      'not-needed': 'gray',
    });
    expect(STATUS_STYLE.cancelled.symbol).not.toBe(STATUS_STYLE.failed.symbol);
  });

  it('draws each row symbol in its state colour', () => {
    const events: SlimeEvent[] = [
      plannedEvent(T0, 4),
      { type: 'started', time: T0, drvPath: p('lib01'), action: 'build' },
      { type: 'started', time: T0, drvPath: p('lib02'), action: 'fetch' },
      { type: 'built', time: T0 + 1, drvPath: p('lib03'), outputs: {}, durationMs: 1 },
      { type: 'failed', time: T0 + 1, drvPath: p('lib04'), reason: { kind: 'timeout', timeoutMs: 60_000 } },
    ];
    const out = render(<RealizeView state={reduceAll(initialState(T0), events)} now={T0 + 10} width={100} height={40} />).lastFrame() ?? '';
      // The tree comes first, so the first line naming a derivation is its row.
    const row = (name: string) => out.split('\n').find((l) => l.includes(name)) ?? '';
    /** The foreground colour in force where `text` starts in `line`. */
    const colourAt = (line: string, text: string) => {
      const before = line.slice(0, line.indexOf(text));
      const codes = [...before.matchAll(/\x1b\[(\d+)m/g)].map((m) => m[1]).filter((c) => /^(3\d|9\d)$/.test(c!));
      return Object.entries(SGR).find(([, sgr]) => sgr === `\x1b[${codes.at(-1)}m`)?.[0];
    };
    expect(colourAt(row('lib01'), '●')).toBe('yellow');
    expect(colourAt(row('lib02'), '↓')).toBe('cyan');
    expect(colourAt(row('lib03'), '✔')).toBe('green');
    expect(colourAt(row('lib04'), '✖')).toBe('red');
    expect(colourAt(row('python3.11'), '≡')).toBe('gray');
    expect(colourAt(row('lib04'), 'timed out after 1m00s')).toBe('red');
  });

  it('dims the benchmark rows of the reference interpreter, whatever its label, and only those', () => {
    const rows = ['python3.11 (Debian)', 'python3', 'isolate'].map((interpreter, i) => ({ workload: 'fib', interpreter, medianMs: 100 * (i + 1), ratio: i + 1 }));
    const out = render(<BenchPanel measuredAt="2026-11-21 09:00 UTC" reference="python3.11 (Debian)" rows={rows} />).lastFrame() ?? '';
    const dim = '\x1b[2m';
    const row = (interpreter: string) => out.split('\n').find((l) => l.includes(`fib       ${interpreter} `)) ?? '';
    expect(row('python3.11 (Debian)').startsWith(dim)).toBe(true);
    expect(row('python3')).not.toContain(dim);
    expect(row('isolate')).not.toContain(dim);
  });
});
