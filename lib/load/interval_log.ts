/**
 * HdrHistogram interval logs: each shard of a load run writes its
 * per-second histograms in the format HdrHistogram's own tools read — the
 * open model's tagged corrected and uncorrected, the closed model's one
 * latency untagged (coordinated-omission correction applies only to the
 * open model) — and {@linkcode mergeIntervalLogs} adds any number of them
 * exactly.
 *
 * @module
 */
import {
  decodeHistogram,
  loadHistogram,
  percentileDistribution,
  percentilesOf,
} from "./_histogram.ts";
import type { LoadInterval } from "./_recorder.ts";
import type { LatencyPercentiles } from "./types.ts";

/** Tag of the corrected histograms (from intended start). */
export const CORRECTED_TAG = "corrected";
/** Tag of the uncorrected histograms (from actual start). */
export const UNCORRECTED_TAG = "uncorrected";

/**
 * The log's header: format version, start time, legend.
 *
 * @param startMs The run's start, ms since the epoch.
 * @returns The header lines, each ending in a newline.
 *
 * @example
 * ```ts
 * import { intervalLogHeader } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * assert.match(intervalLogHeader(0), /^#\[StartTime: 0\.000/m);
 * ```
 */
export function intervalLogHeader(startMs: number): string {
  return `#[Histogram log format version 1.3]\n` +
    `#[StartTime: ${(startMs / 1000).toFixed(3)} (seconds since epoch), ${
      new Date(startMs).toISOString()
    }]\n` +
    `#[values in microseconds; Interval_Max in milliseconds]\n` +
    `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"\n`;
}

/**
 * An interval's log lines, with timestamps relative to `startMs`: the open
 * model's two (tagged corrected and uncorrected), the closed model's one
 * (untagged, HdrHistogram's default histogram).
 *
 * @param interval The interval, as `runLoad`'s `onInterval` gives it.
 * @param startMs The run's start, ms since the epoch.
 * @returns Two lines (open model) or one (closed), each ending in a newline.
 *
 * @example
 * ```ts
 * import { intervalLogLines } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const lines = intervalLogLines({
 *   startMs: 1000, endMs: 2000, corrected: "HISTFAAAA", correctedMaxMs: 0,
 *   uncorrected: "HISTFAAAA", uncorrectedMaxMs: 0,
 * }, 0);
 * assert.equal(lines.split("\n")[0], "Tag=corrected,1.000,1.000,0.000,HISTFAAAA");
 * ```
 */
export function intervalLogLines(interval: LoadInterval, startMs: number): string {
  const start = ((interval.startMs - startMs) / 1000).toFixed(3);
  const length = ((interval.endMs - interval.startMs) / 1000).toFixed(3);
  if (interval.uncorrected === undefined) {
    return `${start},${length},${interval.correctedMaxMs.toFixed(3)},${interval.corrected}\n`;
  }
  return `Tag=${CORRECTED_TAG},${start},${length},${
    interval.correctedMaxMs.toFixed(3)
  },${interval.corrected}\n` +
    `Tag=${UNCORRECTED_TAG},${start},${length},${
      (interval.uncorrectedMaxMs ?? 0).toFixed(3)
    },${interval.uncorrected}\n`;
}

/** Merged logs: percentiles and the distribution of the latencies. */
export interface MergedLogs {
  /** Intervals read, over all logs. */
  intervals: number;
  /**
   * The runs' model: `"closed"` logs have one latency per iteration
   * (untagged lines), `"open"` ones a corrected and an uncorrected one.
   */
  model: "open" | "closed";
  /** The closed model's latencies; the open model's corrected ones (from intended start). */
  latency: LatencyPercentiles;
  /** Open model only: latencies from each iteration's actual start. */
  uncorrected?: LatencyPercentiles;
  /** The percentile distribution of `latency`, wrk2's text format, ms. */
  distribution: string;
}

/**
 * Adds every interval histogram of every log, per tag: the sum is exact
 * (bucket counts add), so 4 shards merged give the percentiles one
 * histogram of all their values would.
 *
 * @param logs The logs' texts.
 * @returns Percentiles of the sums.
 * @throws {SyntaxError} When a log holds a line that is not an interval.
 * @throws {RangeError} When closed-model and open-model logs are mixed.
 *
 * @example Two logs merged
 * ```ts
 * import { checkLoadPlan, intervalLogHeader, intervalLogLines, mergeIntervalLogs, runLoad, runSessions } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const logs: string[] = [];
 * for (let shard = 0; shard < 2; shard++) {
 *   let log = intervalLogHeader(Date.now());
 *   await runLoad(
 *     runSessions(() => Promise.resolve({ ok: true, metrics: {}, facts: {} })),
 *     checkLoadPlan({ vus: 1, iterations: 5 }),
 *     { onInterval: (i) => log += intervalLogLines(i, i.startMs) },
 *   );
 *   logs.push(log);
 * }
 * const merged = mergeIntervalLogs(logs);
 * assert.equal(merged.model, "closed");
 * assert.equal(merged.latency.count, 10);
 * ```
 */
export function mergeIntervalLogs(logs: readonly string[]): MergedLogs {
  const corrected = loadHistogram();
  const uncorrected = loadHistogram();
  let intervals = 0;
  // The first log line that says its model: untagged (closed) or tagged (open).
  let seen: { model: "open" | "closed"; where: string } | undefined;
  for (const [i, log] of logs.entries()) {
    for (const [n, raw] of log.split("\n").entries()) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith('"StartTimestamp"')) continue;
      const match = /^(?:Tag=([^,\s]+),)?[\d.]+,[\d.]+,[\d.]+,([A-Za-z0-9+/=]+)$/.exec(line);
      const where = `interval log ${i + 1} line ${n + 1}`;
      if (!match) {
        throw new SyntaxError(
          `Cannot read ${where}: ${JSON.stringify(line.slice(0, 60))} is not an interval line`,
        );
      }
      let histogram;
      try {
        histogram = decodeHistogram(match[2]);
      } catch (error) {
        throw new SyntaxError(`Cannot read ${where}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const model = match[1] === undefined ? "closed" : "open";
      if (seen === undefined) seen = { model, where };
      else if (seen.model !== model) {
        throw new RangeError(
          `Cannot merge interval logs: ${seen.where} is the ${seen.model} model's and ${where} the ${model} model's`,
        );
      }
      intervals++;
      (match[1] === UNCORRECTED_TAG ? uncorrected : corrected).add(histogram);
    }
  }
  const model = seen?.model ?? "closed";
  return {
    intervals,
    model,
    latency: percentilesOf(corrected),
    ...(model === "open" ? { uncorrected: percentilesOf(uncorrected) } : {}),
    distribution: percentileDistribution(corrected),
  };
}
