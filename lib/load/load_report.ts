/**
 * What a load run reports: counts, rate achieved against rate asked,
 * corrected and uncorrected latency percentiles, errors by type, bytes,
 * a row per second; as JSON, as flat metrics for `expect:` and as text.
 *
 * @module
 */
import type { LatencyPercentiles, LoadSecond } from "./types.ts";

/** The report of one load run (or of merged shards). */
export interface LoadReport {
  /** `"closed"` or `"open"`. */
  model: "closed" | "open";
  /** Whether the run was stopped before its end (Ctrl-C, abort on breach). */
  interrupted: boolean;
  /** Wall time of the run, ms. */
  elapsedMs: number;
  /** Iterations that ended (correct or not). */
  iterations: number;
  /** Of those, the failed ones. */
  errors: number;
  /** Failed iterations by error type (code or name). */
  errorsByType: Record<string, number>;
  /** Open model: arrivals due that never started (no VU was free in time). */
  dropped: number;
  /**
   * Iterations cut short by the caller's stop (not counted as errors); one
   * still running when the grace period after the run's end ran out is an
   * error of type `"unfinished"` instead (the target hung).
   */
  interruptedIterations: number;
  /** Iterations per second achieved (open model: over the schedule, not the wait for the last replies). */
  rate: number;
  /** Iterations per second asked (open model: the schedule's mean), `undefined` closed. */
  askedRate?: number;
  /** VUs that ran at least one iteration or were pre-allocated. */
  vusUsed: number;
  /** Bytes sent and received by all iterations. */
  bytes: number;
  /** Latency from each iteration's intended start (equal to `uncorrected` closed). */
  latency: LatencyPercentiles;
  /** Latency from each iteration's actual start. */
  uncorrected: LatencyPercentiles;
  /** One row per second. */
  series: LoadSecond[];
  /**
   * The corrected latencies' percentile distribution in the text format
   * wrk2 and HdrHistogram print (`Value Percentile TotalCount
   * 1/(1-Percentile)`), in milliseconds, so HdrHistogram plotters read it.
   */
  distribution: string;
}

/**
 * The report as flat metrics, the names `expect:` reads: `rate`,
 * `asked_rate`, `iterations`, `errors`, `error_rate` (a fraction, so
 * `"< 0.1%"` reads), `dropped_iterations`, `bytes`, `duration_ms`,
 * `rtt_p50_ms` … `rtt_max_ms` (corrected) and `rtt_uncorrected_p50_ms` …
 * (uncorrected). A percentile with no correct iteration is `NaN`, which
 * no threshold accepts.
 *
 * @param report A load report.
 * @returns The metrics.
 *
 * @example Metrics of a short run
 * ```ts
 * import { checkLoadPlan, loadMetrics, runLoad } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const report = await runLoad(
 *   () => Promise.resolve({ iterate: () => Promise.resolve({ ok: false, error: "ECONNRESET" }), close: () => Promise.resolve() }),
 *   checkLoadPlan({ vus: 1, iterations: 3 }),
 * );
 * const metrics = loadMetrics(report);
 * assert.equal(metrics.errors, 3);
 * assert.equal(metrics.error_rate, 1);
 * assert.ok(Number.isNaN(metrics.rtt_p99_ms));
 * ```
 */
export function loadMetrics(report: LoadReport): Record<string, number> {
  const metrics: Record<string, number> = {
    iterations: report.iterations,
    errors: report.errors,
    error_rate: report.iterations === 0 ? NaN : report.errors / report.iterations,
    dropped_iterations: report.dropped,
    rate: report.rate,
    ...(report.askedRate === undefined ? {} : { asked_rate: report.askedRate }),
    bytes: report.bytes,
    duration_ms: report.elapsedMs,
    vus_max: report.vusUsed,
  };
  const put = (prefix: string, p: LatencyPercentiles) => {
    metrics[`${prefix}_p50_ms`] = p.p50;
    metrics[`${prefix}_p90_ms`] = p.p90;
    metrics[`${prefix}_p99_ms`] = p.p99;
    metrics[`${prefix}_p999_ms`] = p.p999;
    metrics[`${prefix}_max_ms`] = p.max;
    metrics[`${prefix}_mean_ms`] = p.mean;
  };
  put("rtt", report.latency);
  put("rtt_uncorrected", report.uncorrected);
  return metrics;
}

/**
 * The report as JSON-ready data (the distribution text left out: print it
 * with `--distribution`, or keep the interval log).
 *
 * @param report A load report.
 * @returns Plain data; `NaN` percentiles become `null`.
 *
 * @example JSON of a report
 * ```ts
 * import { checkLoadPlan, loadReportJson, runLoad } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const report = await runLoad(
 *   () => Promise.resolve({ iterate: () => Promise.resolve({ ok: true }), close: () => Promise.resolve() }),
 *   checkLoadPlan({ vus: 1, iterations: 2 }),
 * );
 * const json = JSON.parse(JSON.stringify(loadReportJson(report)));
 * assert.equal(json.iterations, 2);
 * assert.equal(json.metrics.iterations, 2);
 * ```
 */
export function loadReportJson(report: LoadReport): Record<string, unknown> {
  const { distribution: _distribution, ...rest } = report;
  return { ...rest, metrics: loadMetrics(report) };
}

/**
 * A few lines for a terminal: rate achieved vs asked, errors by type,
 * corrected and uncorrected percentiles.
 *
 * @param report A load report.
 * @returns The text.
 *
 * @example The summary names the rate
 * ```ts
 * import { checkLoadPlan, formatLoadReport, runLoad } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const report = await runLoad(
 *   () => Promise.resolve({ iterate: () => Promise.resolve({ ok: true }), close: () => Promise.resolve() }),
 *   checkLoadPlan({ vus: 1, iterations: 2 }),
 * );
 * assert.match(formatLoadReport(report), /^2 iterations, 0 errors/);
 * ```
 */
export function formatLoadReport(report: LoadReport): string {
  const ms = (v: number) => Number.isNaN(v) ? "-" : `${v.toFixed(3)}ms`;
  const line = (name: string, p: LatencyPercentiles) =>
    `${name.padEnd(12)} p50 ${ms(p.p50)}  p90 ${ms(p.p90)}  p99 ${ms(p.p99)}  p99.9 ${
      ms(p.p999)
    }  max ${ms(p.max)}`;
  const types = Object.entries(report.errorsByType).map(([t, n]) => `${t} ${n}`).join(", ");
  const lines = [
    `${report.iterations} iterations, ${report.errors} errors${types ? ` (${types})` : ""}${
      report.dropped ? `, ${report.dropped} dropped` : ""
    } in ${(report.elapsedMs / 1000).toFixed(2)}s${report.interrupted ? " (interrupted)" : ""}`,
    `rate ${report.rate.toFixed(1)}/s${
      report.askedRate === undefined ? "" : ` of ${report.askedRate.toFixed(1)}/s asked`
    }, ${report.vusUsed} ${report.vusUsed === 1 ? "VU" : "VUs"}, ${report.bytes} bytes`,
    line(report.model === "open" ? "corrected" : "latency", report.latency),
  ];
  if (report.model === "open") lines.push(line("uncorrected", report.uncorrected));
  return lines.join("\n");
}
