/**
 * Data types load reports are made of.
 *
 * @module
 */

/** The percentiles reported for a set of latencies, in milliseconds (`NaN` when empty). */
export interface LatencyPercentiles {
  /** Number of latencies. */
  count: number;
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
  /** Largest (to the histogram's resolution). */
  max: number;
  /** Mean. */
  mean: number;
}

/** One second of a run. */
export interface LoadSecond {
  /** Seconds since the start at the end of this interval. */
  second: number;
  /** Iterations that ended in it. */
  iterations: number;
  /** Of those, the failed ones. */
  errors: number;
  /** Bytes of the iterations that ended in it. */
  bytes: number;
  /** Median corrected latency of its iterations, ms (`NaN` with none). */
  p50_ms: number;
  /** 90th percentile corrected latency of its iterations, ms. */
  p90_ms: number;
  /** 99th percentile corrected latency of its iterations, ms. */
  p99_ms: number;
}
