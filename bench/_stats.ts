// Order statistics for benchmark samples: medians of a handful of rounds,
// percentiles of many round-trip times.

/** Median, minimum and maximum of some samples. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The upper of the middle two for an even count (the middle one for an odd
 * count): always one of the samples, as a run's representative must be.
 */
export function upperMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * The `p`th percentile of `values` by linear interpolation between closest
 * ranks (numpy's default), so the 50th is the usual median.
 */
export function percentile(values: readonly number[], p: number): number {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return NaN;
  const sorted = Float64Array.from(finite).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Median, min and max of `values`, ignoring NaN (a side that did not run). */
export function spread(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite);
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : NaN,
    max: finite.length ? Math.max(...finite) : NaN,
    n: finite.length,
  };
}

/**
 * Ratios `a[i] / b[i]` of samples taken in the same round: pairing by round
 * cancels the drift of a shared, noisy machine better than a ratio of
 * medians would.
 */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (Number.isFinite(a[i]) && Number.isFinite(b[i]) && b[i] !== 0) out.push(a[i] / b[i]);
  }
  return out;
}
