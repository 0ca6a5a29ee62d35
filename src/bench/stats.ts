/**
 * The statistics `slime bench` reports: the spread of a set of runs, and how sure a
 * ratio of medians is, as a percentile bootstrap interval.
 *
 * The bootstrap is paired by round: `slime bench` runs every interpreter once per
 * round (interleaved), so run i of the reference and run i of another interpreter saw
 * the same moment of the machine. Resampling whole rounds keeps that pairing, so a slow
 * moment moves both medians together instead of widening the interval twice.
 *
 * The random numbers come from a seeded generator (mulberry32): the same runs always
 * give the same interval, so a kept record can be recomputed and checked.
 */

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface Interval {
  low: number;
  high: number;
  /** Coverage, e.g. 0.95. */
  level: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function spread(xs: readonly number[]): Spread {
  if (xs.length === 0) throw new RangeError('spread of no values');
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

/** Linear-interpolation quantile (type 7, as R's and numpy's default) of sorted values. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** mulberry32: a small, fast, seeded 32-bit generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  /** Resamples drawn (default 2000). */
  iterations?: number;
  /** Coverage of the interval (default 0.95). */
  level?: number;
  /** Seed of the generator (default 1). */
  seed?: number;
}

function interval(stats: number[], level: number): Interval {
  stats.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return { low: quantileSorted(stats, tail), high: quantileSorted(stats, 1 - tail), level };
}

/**
 * Percentile bootstrap interval of median(xs) / median(refs), resampling rounds:
 * `xs[i]` and `refs[i]` were measured in the same round.
 */
export function bootstrapMedianRatio(refs: readonly number[], xs: readonly number[], opts: BootstrapOptions = {}): Interval {
  if (refs.length !== xs.length) throw new RangeError(`paired bootstrap needs as many runs of each (${refs.length} and ${xs.length})`);
  if (refs.length === 0) throw new RangeError('bootstrap of no runs');
  const { iterations = 2000, level = 0.95, seed = 1 } = opts;
  const random = seededRandom(seed);
  const n = refs.length;
  const a = new Array<number>(n);
  const b = new Array<number>(n);
  const stats: number[] = [];
  for (let k = 0; k < iterations; k++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      a[i] = refs[j];
      b[i] = xs[j];
    }
    stats.push(median(b) / median(a));
  }
  return interval(stats, level);
}

/** Percentile bootstrap interval of median(xs), e.g. of many samples' ratios. */
export function bootstrapMedian(xs: readonly number[], opts: BootstrapOptions = {}): Interval {
  if (xs.length === 0) throw new RangeError('bootstrap of no values');
  const { iterations = 2000, level = 0.95, seed = 1 } = opts;
  const random = seededRandom(seed);
  const n = xs.length;
  const a = new Array<number>(n);
  const stats: number[] = [];
  for (let k = 0; k < iterations; k++) {
    for (let i = 0; i < n; i++) a[i] = xs[Math.floor(random() * n)];
    stats.push(median(a));
  }
  return interval(stats, level);
}
