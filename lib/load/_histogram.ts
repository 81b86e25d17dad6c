/**
 * The HdrHistogram a load run records latencies in: whole microseconds,
 * three significant digits, growing its range as needed, 64-bit counts.
 *
 * @module
 */
import { build, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import type { LatencyPercentiles } from "./types.ts";

/** Latencies are recorded as whole microseconds (wrk2's unit). */
export const US_PER_MS = 1000;

/**
 * Creates an empty latency histogram in microseconds.
 *
 * @returns The histogram; a JavaScript one, so nothing to free.
 */
export function loadHistogram(): Histogram {
  return build({
    bitBucketSize: 64,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
}

/**
 * Reads the reported percentiles off a microsecond histogram, in milliseconds.
 *
 * @param histogram A histogram from {@linkcode loadHistogram} (or one decoded from a log).
 * @returns Count, p50, p90, p99, p99.9, max and mean; `NaN` for each but count when empty.
 */
export function percentilesOf(histogram: Histogram): LatencyPercentiles {
  const count = histogram.totalCount;
  if (count === 0) {
    return { count, p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  }
  const at = (p: number) => histogram.getValueAtPercentile(p) / US_PER_MS;
  return {
    count,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    // The bucket's value, as a histogram decoded from a log gives it too.
    max: at(100),
    mean: histogram.mean / US_PER_MS,
  };
}

/**
 * The percentile distribution in the text format wrk2 and HdrHistogram
 * print (`Value Percentile TotalCount 1/(1-Percentile)`, then mean, max and
 * counts), in milliseconds, so HdrHistogram plotters read it.
 *
 * @param histogram A microsecond histogram.
 * @returns The distribution text.
 */
export function percentileDistribution(histogram: Histogram): string {
  return histogram.outputPercentileDistribution(5, US_PER_MS);
}

/** A histogram in the interval log's encoding: compressed, base64. */
export function encodeHistogram(histogram: Histogram): string {
  return encodeIntoCompressedBase64(histogram);
}
