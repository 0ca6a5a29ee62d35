/** How the three consumers of the event stream show substitution and cache warnings. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { plainLogger } from '../src/logging/plain.js';
import { activityOf } from '../src/run/format.js';
import { initialState, reduce } from '../src/run/state.js';
import { lastLines } from '../src/run/log-tail.js';
import { plannedEvent, syntheticDrvPath as p } from '../tui/synthetic.js';

const T0 = 1_700_000_000_000;
const MiB = 2 ** 20;
const quick = p('cpython-3.11.2-quick');
const cache = 'https://cache.example/slime';

const substitution: SlimeEvent[] = [
  plannedEvent(T0),
  { type: 'cache-warning', time: T0, cache: 'file:///gone', reason: 'it has no nix-cache-info; not using it in this run' },
  { type: 'cache-warning', time: T0 + 1, cache: 'http://127.0.0.1:1', drvPath: quick, path: '/s/x-cpython', reason: 'connection refused by 127.0.0.1:1' },
  { type: 'started', time: T0 + 2, drvPath: quick, action: 'substitute' },
  { type: 'progress', time: T0 + 1000, drvPath: quick, direction: 'download', bytes: 10 * MiB, total: 60 * MiB, bytesPerSecond: 5 * MiB, source: cache },
  { type: 'substituted', time: T0 + 13_000, drvPath: quick, outputs: {}, from: cache, durationMs: 13_000 },
];

describe('substitution events', () => {
  it('the plain logger prints each warning on one line naming the cache, then the substitution', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const sink = plainLogger(out);
    for (const e of substitution) sink.emit(e);
    const lines = text.split('\n');
    expect(lines).toContain('warning: cache file:///gone: it has no nix-cache-info; not using it in this run');
    expect(lines).toContain('[cpython-3.11.2-quick] warning: cache http://127.0.0.1:1 (/s/x-cpython): connection refused by 127.0.0.1:1');
    expect(lines).toContain('[cpython-3.11.2-quick] substituting');
    expect(lines).toContain(`[cpython-3.11.2-quick] substituted from ${cache} in 13s`);
  });

  it('the TUI shows the substitution as its own state with bytes, rate and ETA, and the warning in the log', () => {
    let s = initialState(T0);
    for (const e of substitution.slice(0, 5)) s = reduce(s, e);
    const d = s.derivations[quick]!;
    expect(d.status).toBe('substituting');
    expect(activityOf(d)).toBe('↓ 10.0 MiB/60.0 MiB 5.0 MiB/s, ETA 10s');
    expect(lastLines(d.log, 5).map((l) => l.text)).toContain('warning: cache http://127.0.0.1:1 (/s/x-cpython): connection refused by 127.0.0.1:1');
    s = reduce(s, substitution[5]);
    expect(s.derivations[quick]!.status).toBe('substituted');
    expect(s.derivations[quick]!.substitutedFrom).toBe(cache);
  });
});
