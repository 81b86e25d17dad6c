/**
 * A latency histogram with constant memory and 0.1% resolution, in
 * HdrHistogram's bucket layout (its own small implementation, see
 * `_hdr_counts.ts`: hdr-histogram-js took 40–50 ms to import).
 *
 * @module
 */
import { HdrCounts } from "./_hdr_counts.ts";

/** Latencies are kept as whole nanoseconds inside the HdrHistogram. */
const NS_PER_MS = 1e6;
/** Largest recordable latency: the counts must stay exact integers (about 104 days). */
const MAX_MS = Number.MAX_SAFE_INTEGER / NS_PER_MS;

/**
 * The usual statistics of a set of latencies, all in milliseconds except
 * `count`. Percentiles use the nearest-rank definition (see
 * {@linkcode LatencyHistogram.percentile}). With no samples, `count` is 0 and
 * every other field is `NaN`: there is no latency to report, and a made-up 0
 * would satisfy expectations such as `rtt_p99_ms < 20`.
 */
export interface LatencySummary {
  /** Number of samples. */
  count: number;
  /** Smallest sample, exact. */
  min: number;
  /** Arithmetic mean, exact. */
  mean: number;
  /** Largest sample, exact. */
  max: number;
  /** Population standard deviation (divides by `count`), exact. */
  stddev: number;
  /** Median (50th percentile). */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
}

// The levels of percentileCurve(): the HDR plot's 2×, 10×, 100×… steps.
const CURVE_LEVELS: readonly number[] = [
  0,
  50,
  75,
  90,
  95,
  99,
  99.5,
  99.9,
  99.95,
  99.99,
  99.995,
  99.999,
  100,
];

/**
 * Records latencies in milliseconds and answers percentiles within 0.1% of
 * the exact value, in memory that depends on the range of the values
 * (about 90 KiB up to 1 ms, 200 KiB up to 10 s, 250 KiB up to 10 minutes)
 * and never on how many were recorded.
 *
 * Samples are rounded to whole nanoseconds and counted in an
 * [HdrHistogram](https://hdrhistogram.github.io/HdrHistogram/) with three
 * significant digits that grows its range as needed. So a percentile is within
 * 0.1% of the exact one plus half a nanosecond of rounding: within 1% from
 * 50 ns up, which covers anything timed with `performance.now()`.
 * `min`, `max`, `mean` and `stddev` are computed from the samples themselves,
 * not from buckets, so they are exact.
 *
 * @example Percentiles of a few round trips
 * ```ts
 * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
 * import assert from "node:assert/strict";
 *
 * const histogram = new LatencyHistogram();
 * for (const ms of [0.04, 0.05, 0.05, 0.06, 12.5]) histogram.record(ms);
 *
 * assert.equal(histogram.count, 5);
 * assert.equal(histogram.min, 0.04);
 * assert.equal(histogram.max, 12.5);
 * assert.ok(Math.abs(histogram.percentile(50) - 0.05) <= 0.05 * 0.001);
 * ```
 */
export class LatencyHistogram {
  // 64-bit (float) counts: a 32-bit bucket would overflow after 2^31 equal samples.
  #hdr: HdrCounts = new HdrCounts();
  #count = 0;
  #min = Infinity;
  #max = -Infinity;
  // Welford's running mean and sum of squared deviations: exact and stable
  // even when every sample is the same large number.
  #mean = 0;
  #m2 = 0;

  /**
   * Adds one latency.
   *
   * @param ms The latency in milliseconds: finite, at least 0.
   * @throws {TypeError} When `ms` is not a number.
   * @throws {RangeError} When `ms` is negative, not finite or beyond about 104 days.
   *
   * @example Recording a measured round trip
   * ```ts
   * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const histogram = new LatencyHistogram();
   * const start = performance.now();
   * histogram.record(performance.now() - start);
   * assert.equal(histogram.count, 1);
   * ```
   */
  record(ms: number): void {
    if (typeof ms !== "number") {
      throw new TypeError(`Cannot record latency: expected a number, got "${typeof ms}"`);
    }
    if (!(ms >= 0 && ms <= MAX_MS)) {
      throw new RangeError(
        `Cannot record latency: "${ms}" ms is not a finite number between 0 and ${MAX_MS}`,
      );
    }
    this.#hdr.record(Math.round(ms * NS_PER_MS));
    const count = ++this.#count;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
    const delta = ms - this.#mean;
    this.#mean += delta / count;
    this.#m2 += delta * (ms - this.#mean);
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** Smallest sample in milliseconds, exact; `NaN` when empty. */
  get min(): number {
    return this.#count === 0 ? NaN : this.#min;
  }

  /** Largest sample in milliseconds, exact; `NaN` when empty. */
  get max(): number {
    return this.#count === 0 ? NaN : this.#max;
  }

  /** Arithmetic mean in milliseconds; `NaN` when empty. */
  get mean(): number {
    return this.#count === 0 ? NaN : this.#mean;
  }

  /** Population standard deviation in milliseconds; `NaN` when empty, 0 for one sample. */
  get stddev(): number {
    return this.#count === 0 ? NaN : Math.sqrt(Math.max(0, this.#m2) / this.#count);
  }

  /**
   * Approximate memory held by the counts, in bytes. It grows with the
   * range of the values recorded (8 KiB per doubling of the largest value),
   * never with their number.
   */
  get estimatedFootprintInBytes(): number {
    return this.#hdr.footprintBytes;
  }

  /**
   * The `p`th percentile by the nearest-rank definition, as HdrHistogram
   * computes it: the smallest sample such that at least `p`% of all samples
   * are less than or equal to it, i.e. the sample of rank
   * `max(1, ceil(p / 100 * count))` in ascending order. So `percentile(0)` is
   * `min` and `percentile(100)` is `max`, both exact; in between the result is
   * the top of the 0.1%-wide bucket holding that sample, clamped to
   * `[min, max]`, so it never under-reports.
   *
   * @param p The percentile, from 0 to 100.
   * @returns The latency in milliseconds, or `NaN` when no sample was recorded.
   * @throws {RangeError} When `p` is not between 0 and 100.
   *
   * @example The median of 1, 2, 3 and 4 ms is 2 ms (rank 2 of 4)
   * ```ts
   * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const histogram = new LatencyHistogram();
   * for (const ms of [4, 1, 3, 2]) histogram.record(ms);
   * assert.ok(Math.abs(histogram.percentile(50) - 2) <= 2 * 0.001);
   * assert.equal(histogram.percentile(100), 4);
   * ```
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`Cannot compute percentile: "${p}" is not between 0 and 100`);
    }
    if (this.#count === 0) return NaN;
    if (p === 0) return this.#min;
    const ms = this.#hdr.valueAtPercentile(p) / NS_PER_MS;
    return Math.min(Math.max(ms, this.#min), this.#max);
  }

  /**
   * The percentile curve HDR plots draw, compactly: `[percentile, ms]` pairs
   * at 0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999 and
   * 100, keeping only the levels the sample count resolves (99.9 needs at
   * least 1,000 samples), so at most 13 pairs whatever the count.
   *
   * @returns The pairs in ascending order; empty when no sample was recorded.
   *
   * @example The curve of 100 samples stops at the 99th percentile, then the max
   * ```ts
   * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const histogram = new LatencyHistogram();
   * for (let i = 1; i <= 100; i++) histogram.record(i);
   * const curve = histogram.percentileCurve();
   * assert.deepEqual(curve.map(([p]) => p), [0, 50, 75, 90, 95, 99, 100]);
   * assert.deepEqual(curve.at(-1), [100, 100]);
   * assert.deepEqual(new LatencyHistogram().percentileCurve(), []);
   * ```
   */
  percentileCurve(): Array<[number, number]> {
    if (this.#count === 0) return [];
    const levels = CURVE_LEVELS.filter((p) => p === 100 || 1 / (1 - p / 100) <= this.#count + 1e-9);
    return levels.map((p) => [p, this.percentile(p)]);
  }

  /**
   * The count, exact min/mean/max/stddev and the 50th, 90th, 99th and 99.9th
   * percentiles, in milliseconds.
   *
   * @returns A plain object; with no samples, `count` is 0 and the rest `NaN`.
   *
   * @example Summarising and checking the tail
   * ```ts
   * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const histogram = new LatencyHistogram();
   * for (let i = 1; i <= 1000; i++) histogram.record(i / 100);
   * const summary = histogram.summary();
   * assert.equal(summary.count, 1000);
   * assert.equal(summary.max, 10);
   * assert.ok(Math.abs(summary.p99 - 9.9) <= 9.9 * 0.001);
   * assert.ok(Number.isNaN(new LatencyHistogram().summary().p50));
   * ```
   */
  summary(): LatencySummary {
    return {
      count: this.#count,
      min: this.min,
      mean: this.mean,
      max: this.max,
      stddev: this.stddev,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /**
   * Adds every sample of `other` to this histogram, as if each had been
   * recorded here (e.g. one histogram per connection, merged at the end).
   * `other` is left unchanged.
   *
   * @param other The histogram to add.
   *
   * @example Merging two connections' histograms
   * ```ts
   * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const a = new LatencyHistogram();
   * const b = new LatencyHistogram();
   * a.record(1);
   * b.record(3);
   * a.merge(b);
   * assert.equal(a.count, 2);
   * assert.equal(a.mean, 2);
   * assert.equal(a.max, 3);
   * ```
   */
  merge(other: LatencyHistogram): void {
    // Read `other` first: merging a histogram into itself must double it.
    const n = other.#count;
    if (n === 0) return;
    const min = other.#min;
    const max = other.#max;
    const mean = other.#mean;
    const m2 = other.#m2;
    this.#hdr.add(other.#hdr);
    const total = this.#count + n;
    // Chan et al.'s pairwise update of Welford's mean and squared deviations.
    const delta = mean - this.#mean;
    this.#m2 += m2 + delta * delta * this.#count * n / total;
    this.#mean += delta * n / total;
    this.#count = total;
    if (min < this.#min) this.#min = min;
    if (max > this.#max) this.#max = max;
  }

  /**
   * Forgets every sample. The memory already grown is kept for reuse.
   *
   * @example Starting a new measurement interval
   * ```ts
   * import { LatencyHistogram } from "@wiretest/wiretest/metrics";
   * import assert from "node:assert/strict";
   *
   * const histogram = new LatencyHistogram();
   * histogram.record(5);
   * histogram.reset();
   * assert.equal(histogram.count, 0);
   * assert.ok(Number.isNaN(histogram.max));
   * ```
   */
  reset(): void {
    this.#hdr.reset();
    this.#count = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
    this.#mean = 0;
    this.#m2 = 0;
  }
}
