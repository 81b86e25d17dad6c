/**
 * Flattens a {@linkcode LatencySummary} into outcome metrics.
 *
 * @module
 */
import type { LatencySummary } from "./latency_histogram.ts";

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/**
 * Turns a latency summary into metric entries named in the project's
 * convention, snake_case with the unit as suffix: for prefix `rtt`,
 * `rtt_min_ms`, `rtt_p50_ms`, `rtt_p90_ms`, `rtt_p99_ms`, `rtt_p999_ms`,
 * `rtt_max_ms`, `rtt_mean_ms` and `rtt_stddev_ms`.
 *
 * With no samples (`count` 0) it returns no entries, so an expectation on
 * `rtt_p99_ms` reports a missing metric instead of passing on a 0.
 * The count itself is not included: plugins report it under their own name
 * (`replies`, `requests`…).
 *
 * @param prefix snake_case name of what was timed, e.g. `rtt` or `connect`.
 * @param summary From {@linkcode LatencyHistogram.summary}.
 * @returns The metric entries, to spread into an outcome's `metrics`.
 * @throws {TypeError} When `prefix` is not snake_case.
 *
 * @example Round-trip times as outcome metrics
 * ```ts
 * import { LatencyHistogram, summaryMetrics } from "@wiretest/wiretest/metrics";
 * import assert from "node:assert/strict";
 *
 * const histogram = new LatencyHistogram();
 * histogram.record(0.25);
 * const metrics: Record<string, number> = {
 *   replies: histogram.count,
 *   ...summaryMetrics("rtt", histogram.summary()),
 * };
 * assert.equal(metrics.rtt_max_ms, 0.25);
 * assert.equal(metrics.rtt_stddev_ms, 0);
 * assert.deepEqual(summaryMetrics("rtt", new LatencyHistogram().summary()), {});
 * ```
 */
export function summaryMetrics(prefix: string, summary: LatencySummary): Record<string, number> {
  if (!SNAKE_CASE.test(prefix)) {
    throw new TypeError(`Cannot name latency metrics: prefix "${prefix}" is not snake_case`);
  }
  if (summary.count === 0) return {};
  return {
    [`${prefix}_min_ms`]: summary.min,
    [`${prefix}_p50_ms`]: summary.p50,
    [`${prefix}_p90_ms`]: summary.p90,
    [`${prefix}_p99_ms`]: summary.p99,
    [`${prefix}_p999_ms`]: summary.p999,
    [`${prefix}_max_ms`]: summary.max,
    [`${prefix}_mean_ms`]: summary.mean,
    [`${prefix}_stddev_ms`]: summary.stddev,
  };
}

/**
 * The declaration of one latency metric, as a client role's `outcome`
 * lists it (a `MetricDeclaration` of `@wiretest/wiretest/plugin`; spelled
 * out here so metrics need not import the plugin contract).
 */
export interface LatencyMetricDeclaration {
  /** E.g. `rtt_p99_ms`. */
  readonly name: string;
  /** Always `"ms"`. */
  readonly unit: string;
  /** E.g. `"99th percentile of round-trip times."`. */
  readonly description: string;
  /** When the metrics are present. */
  readonly when: string;
}

const STATISTICS: readonly (readonly [string, string])[] = [
  ["min", "Smallest of"],
  ["p50", "Median of"],
  ["p90", "90th percentile of"],
  ["p99", "99th percentile of"],
  ["p999", "99.9th percentile of"],
  ["max", "Largest of"],
  ["mean", "Mean of"],
  ["stddev", "Standard deviation of"],
];

/**
 * Declares the metrics {@linkcode summaryMetrics} makes for `prefix`, for a
 * client role's `outcome` declaration: one per statistic, in milliseconds.
 *
 * @param prefix The prefix given to `summaryMetrics`, e.g. `rtt`.
 * @param what What was timed, plural, e.g. `"round-trip times"`.
 * @param when When they are present (they are absent with no samples).
 * @returns The eight declarations, `<prefix>_min_ms` to `<prefix>_stddev_ms`.
 * @throws {TypeError} When `prefix` is not snake_case.
 *
 * @example Declaring round-trip times
 * ```ts
 * import { summaryMetricDeclarations } from "@wiretest/wiretest/metrics";
 * import assert from "node:assert/strict";
 *
 * const declared = summaryMetricDeclarations("rtt", "round-trip times", "when a reply came");
 * assert.equal(declared.length, 8);
 * assert.deepEqual(declared[3], {
 *   name: "rtt_p99_ms",
 *   unit: "ms",
 *   description: "99th percentile of round-trip times.",
 *   when: "when a reply came",
 * });
 * ```
 */
export function summaryMetricDeclarations(
  prefix: string,
  what: string,
  when: string,
): LatencyMetricDeclaration[] {
  if (!SNAKE_CASE.test(prefix)) {
    throw new TypeError(`Cannot name latency metrics: prefix "${prefix}" is not snake_case`);
  }
  return STATISTICS.map(([statistic, label]) => ({
    name: `${prefix}_${statistic}_ms`,
    unit: "ms",
    description: `${label} ${what}.`,
    when,
  }));
}
