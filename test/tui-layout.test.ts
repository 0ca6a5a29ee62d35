import { describe, expect, it } from 'vitest';
import type { DrvStatus } from '../src/run/state.js';
import { MAX_FAILURE_ROWS, MAX_LOG_LINES, moveFocus, planLayout, type RowModel } from '../tui/view-model.js';

function rows(spec: Partial<Record<DrvStatus, number>>): RowModel[] {
  return Object.entries(spec).flatMap(([status, n]) =>
    Array.from({ length: n }, (_, i) => ({ drvPath: `${status}-${i}`, prefix: '', name: `${status}-${i}`, status: status as DrvStatus })),
  );
}

const linesOf = (l: ReturnType<typeof planLayout>, failures: number) =>
  l.rows.length + (l.hidden ? 1 : 0) + (failures ? 1 + l.failureRows + (failures > l.failureRows ? 1 : 0) : 0) + (l.logLines ? 1 + l.logLines : 0) + 1;

describe('planLayout', () => {
  it('shows everything when it fits and gives the rest to the log', () => {
    const l = planLayout({ height: 40, rows: rows({ building: 2, built: 3 }), failures: 0, log: 100 });
    expect(l.rows).toHaveLength(5);
    expect(l.hidden).toBeUndefined();
    expect(l.logLines).toBe(MAX_LOG_LINES);
  });

  it('collapses finished rows before queued ones, and never hides running ones while others can go', () => {
    const l = planLayout({ height: 20, rows: rows({ built: 10, planned: 6, building: 5 }), failures: 0, log: 100 });
    expect(l.rows.filter((r) => r.status === 'building')).toHaveLength(5);
    expect(l.rows.filter((r) => r.status === 'planned')).toHaveLength(6);
    expect(l.hidden).toEqual({ done: 8, queued: 0, skipped: 0, failed: 0, active: 0 });
    expect(linesOf(l, 0)).toBeLessThan(20);
  });

  it('keeps the frame shorter than the terminal whatever it holds', () => {
    for (const height of [8, 12, 24, 50]) {
      for (const failures of [0, 2, 9]) {
        const l = planLayout({ height, rows: rows({ built: 30, planned: 10, building: 4, failed: failures }), failures, log: 50 });
        expect(linesOf(l, failures)).toBeLessThan(height);
      }
    }
  });

  it('bounds the failure list and says how many more there are', () => {
    const l = planLayout({ height: 60, rows: rows({ failed: 9 }), failures: 9, log: 0 });
    expect(l.failureRows).toBe(MAX_FAILURE_ROWS);
  });
});

describe('moveFocus', () => {
  it('wraps both ways and starts from either end without a focus', () => {
    const order = ['a', 'b', 'c'];
    expect(moveFocus(order, 'c', 1)).toBe('a');
    expect(moveFocus(order, 'a', -1)).toBe('c');
    expect(moveFocus(order, undefined, 1)).toBe('a');
    expect(moveFocus(order, undefined, -1)).toBe('c');
    expect(moveFocus(order, 'gone', 1)).toBe('a');
    expect(moveFocus([], 'a', 1)).toBeUndefined();
  });
});
