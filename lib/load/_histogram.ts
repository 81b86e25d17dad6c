/**
 * The HdrHistogram a load run records latencies in: whole microseconds,
 * three significant digits, growing its range as needed, 64-bit counts.
 *
 * @module
 */
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from "hdr-histogram-js";
import { Buffer } from "node:buffer";
import { inflateSync } from "node:zlib";
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

/**
 * Most bytes an encoded histogram may inflate to. Three significant digits
 * over the whole 64-bit range, every bucket counted, takes about 0.5 MiB;
 * a log line inflating to more is a deflate bomb, not a histogram.
 */
export const MAX_HISTOGRAM_BYTES = 4 * 1024 * 1024;
const COMPRESSED_COOKIE_BASE = 0x1c849304;
const ENCODING_COOKIE_BASE = 0x1c849303;

/**
 * Decodes a histogram from an interval log or a plugin's process, both
 * untrusted: the inflated size is capped ({@linkcode MAX_HISTOGRAM_BYTES}),
 * the header's range and precision checked before anything is allocated
 * for it, and a total count past what a number holds exactly refused.
 *
 * @param encoded Compressed, base64 (the interval log's form).
 * @returns The histogram.
 * @throws {SyntaxError} When it is not such a histogram.
 */
export function decodeHistogram(encoded: string): Histogram {
  if (typeof encoded !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new SyntaxError("Cannot decode histogram: it is not base64");
  }
  const data = Buffer.from(encoded, "base64");
  if (data.length < 8 || ((data.readInt32BE(0) & ~0xf0) !== COMPRESSED_COOKIE_BASE)) {
    throw new SyntaxError("Cannot decode histogram: no compressed-histogram cookie");
  }
  const length = data.readInt32BE(4);
  if (length < 0 || length > data.length - 8) {
    throw new SyntaxError(
      `Cannot decode histogram: it says ${length} compressed bytes, holds ${data.length - 8}`,
    );
  }
  let inflated: Buffer;
  try {
    inflated = inflateSync(data.subarray(8, 8 + length), {
      maxOutputLength: MAX_HISTOGRAM_BYTES,
    });
  } catch (error) {
    throw new SyntaxError(
      `Cannot decode histogram: it does not inflate within ${MAX_HISTOGRAM_BYTES} bytes (${
        (error as Error).message
      })`,
      { cause: error },
    );
  }
  if (inflated.length < 40 || (inflated.readInt32BE(0) & ~0xf0) !== ENCODING_COOKIE_BASE) {
    throw new SyntaxError("Cannot decode histogram: no histogram cookie");
  }
  const payload = inflated.readInt32BE(4);
  const digits = inflated.readInt32BE(12);
  const lowest = Number(inflated.readBigInt64BE(16));
  const highest = Number(inflated.readBigInt64BE(24));
  if (payload < 0 || payload > inflated.length - 40) {
    throw new SyntaxError(
      `Cannot decode histogram: it says ${payload} payload bytes, holds ${inflated.length - 40}`,
    );
  }
  if (
    !(digits >= 0 && digits <= 5) || !(lowest >= 1) || !(highest >= 2 * lowest) ||
    highest > Number.MAX_SAFE_INTEGER
  ) {
    throw new SyntaxError(
      `Cannot decode histogram: impossible settings (${digits} digits, range ${lowest} to ${highest})`,
    );
  }
  let histogram: Histogram;
  try {
    histogram = decodeFromCompressedBase64(encoded, 64, false);
  } catch (error) {
    // The library throws strings too.
    const detail = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(`Cannot decode histogram: ${detail}`, {
      cause: error,
    });
  }
  if (!(histogram.totalCount >= 0) || !Number.isSafeInteger(histogram.totalCount)) {
    throw new SyntaxError(`Cannot decode histogram: its total count is ${histogram.totalCount}`);
  }
  return histogram;
}
