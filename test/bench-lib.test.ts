/**
 * `npm run bench`'s side-by-side rounds (bench/lib.ts): the order of slime and its
 * reference swapped every round, and the bootstrap interval of their ratio.
 */
import { describe, expect, it } from 'vitest';
import { interleave, MIN_ROUNDS_FOR_INTERVAL, pairUp, sideBySide, type Measured } from '../bench/lib.js';

const measured = (ms: number): Measured => ({ ms, rssMb: 10, cpuMs: ms, code: 0, stdout: '', stderr: '' });

describe('sideBySide', () => {
  it('swaps which goes first every round, so neither always runs right after the other', () => {
    const order: string[] = [];
    sideBySide(
      4,
      () => (order.push('a'), measured(1)),
      () => (order.push('b'), measured(1)),
    );
    expect(order.join('')).toBe('abbaabba');
  });

  it('gives the medians, and with enough rounds a bootstrap interval of the ratio that holds it', () => {
    // Slime twice as slow as its reference in every round, the rounds themselves noisy.
    const times = [50, 70, 55, 90, 60, 52, 75, 58, 64];
    let i = 0;
    let j = 0;
    const r = sideBySide(
      times.length,
      () => measured(2 * times[i++]!),
      () => measured(times[j++]!),
    );
    expect(r.a.ms).toBe(120);
    expect(r.b.ms).toBe(60);
    // Paired by round: a machine's slow moment moves both sides, not the ratio.
    expect(r.ratioInterval).toEqual({ low: 2, high: 2 });
  });

  it('says how unsure a ratio is: noise between the rounds widens the interval around it', () => {
    const a = [100, 104, 97, 110, 95, 101, 99, 103, 98, 106, 100];
    const b = [101, 95, 103, 99, 108, 97, 102, 96, 100, 104, 99];
    let i = 0;
    let j = 0;
    const r = sideBySide(
      a.length,
      () => measured(a[i++]!),
      () => measured(b[j++]!),
    );
    const { low, high } = r.ratioInterval!;
    expect(low).toBeLessThan(1);
    expect(high).toBeGreaterThan(1);
    expect(low).toBeLessThanOrEqual(r.a.ms / r.b.ms);
    expect(high).toBeGreaterThanOrEqual(r.a.ms / r.b.ms);
  });

  it('gives no interval from fewer rounds than it takes to say anything', () => {
    const r = sideBySide(MIN_ROUNDS_FOR_INTERVAL - 1, () => measured(2), () => measured(1));
    expect(r.ratioInterval).toBeUndefined();
    expect(r.a.ms / r.b.ms).toBe(2);
  });
});

describe('interleave', () => {
  it('runs each once a round, the order rotated by one every round, and pairs each with the same reference runs', () => {
    const order: string[] = [];
    const run = (name: string, ms: number) => () => (order.push(name), measured(ms * (1 + order.length / 100)));
    const [a, ref, c] = interleave(3, [run('a', 2), run('r', 1), run('c', 3)]);
    expect(order.join(' ')).toBe('a r c r c a c a r');
    expect([a!.length, ref!.length, c!.length]).toEqual([3, 3, 3]);
    // Each figure against the very same runs of the reference.
    expect(pairUp(a!, ref!).b).toEqual(pairUp(c!, ref!).b);
    expect(pairUp(c!, ref!).a.ms / pairUp(c!, ref!).b.ms).toBeCloseTo(3, 0);
  });
});
