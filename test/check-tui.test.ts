/**
 * The TUI's side of `slime check`: the `c` key on the targets screen, and how the
 * check's events show in the run tree (a rebuild is a build; a difference a failure).
 */
import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import type { SlimeEvent } from '../src/events.js';
import { targetsHelp, targetsKey } from '../tui/app/app-state.js';
import { initialState, reduceAll } from '../src/run/state.js';

const noKey = {} as Key;

describe('slime tui and slime check', () => {
  it('offers c to check the selected target when the backend can, and not while something runs', () => {
    expect(targetsKey('c', noKey, { running: false, hasRun: false, comparesSamples: true, checks: true })).toEqual({ type: 'check' });
    expect(targetsKey('c', noKey, { running: true, hasRun: true, comparesSamples: true, checks: true })).toBeUndefined();
    expect(targetsKey('c', noKey, { running: false, hasRun: false, comparesSamples: true })).toBeUndefined();
    expect(targetsHelp({ running: false, hasRun: false, comparesSamples: true, checks: true })).toBe(
      '↑↓/jk select · Enter realize · s compare samples again · c rebuild & compare · q quit',
    );
  });

  it('draws a rebuild as building, an equal one as built and a differing one as failed, with the count of files', () => {
    const drv = (n: string) => `/s/${'a'.repeat(32)}-${n}.drv`;
    const out = (n: string) => ({ out: { path: `/s/${'b'.repeat(32)}-${n}`, narHash: 'sha256-x', rebuilt: ['sha256-y'] } });
    const planned = (n: string) => ({ drvPath: drv(n), name: n, outputs: { out: `/s/${n}` }, inputs: [], fixedOutput: false, valid: true });
    const events: SlimeEvent[] = [
      { type: 'planned', time: 1, targets: ['t'], derivations: [planned('same'), planned('other')] },
      { type: 'cached', time: 2, drvPath: drv('same'), outputs: {} },
      { type: 'cached', time: 2, drvPath: drv('other'), outputs: {} },
      { type: 'finished', time: 3, built: 0, cached: 2, substituted: 0, failed: 0, skipped: 0, wallMs: 2, results: {} },
      { type: 'check-started', time: 4, drvPath: drv('same'), round: 1, rounds: 1, logPath: '/s/same.check.log' },
    ];
    const during = reduceAll(initialState(0), events);
    expect(during.derivations[drv('same')]).toMatchObject({ status: 'building', logPath: '/s/same.check.log' });
    const after = reduceAll(during, [
      { type: 'checked', time: 10, drvPath: drv('same'), verdict: 'equal', rounds: 1, roundMs: [6], outputs: out('same') },
      { type: 'check-started', time: 11, drvPath: drv('other'), round: 1, rounds: 1 },
      {
        type: 'checked', time: 20, drvPath: drv('other'), verdict: 'differs', rounds: 1, roundMs: [9],
        outputs: { out: { ...out('other').out, differences: [{ path: 'a', kind: 'only-in-stored', type: 'file' }, { path: 'b', kind: 'only-in-rebuilt', type: 'file' }] } },
      },
    ]);
    expect(after.derivations[drv('same')]).toMatchObject({ status: 'built', startedAt: 4, endedAt: 10 });
    expect(after.derivations[drv('other')]).toMatchObject({ status: 'failed', failure: { reason: { kind: 'internal', message: 'not reproducible: 2 files differ' } } });
  });
});
