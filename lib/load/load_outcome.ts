/**
 * A load run as an outcome: the shape `expect:` and `--threshold` judge,
 * and the declaration of what it holds, so that a misspelt threshold key is
 * refused before the run rather than failing (or passing) after it.
 *
 * @module
 */
import type { OutcomeDeclaration } from "../plugin/outcome_declaration_types.ts";
import type { Outcome } from "../plugin/types.ts";
import { loadMetrics, type LoadReport } from "./load_report.ts";

/**
 * What a load run's outcome holds: the metrics {@linkcode loadMetrics}
 * gives and the facts of {@linkcode loadOutcome}. Thresholds (`expect:` of
 * a fixture step with `load:`, the CLI's `--threshold`) are checked
 * against it.
 *
 * @example Every metric a load run reports is declared
 * ```ts
 * import { LOAD_OUTCOME_DECLARATION } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const names = LOAD_OUTCOME_DECLARATION.metrics.map((m) => m.name);
 * assert.ok(names.includes("rtt_p99_ms"));
 * assert.ok(names.includes("error_rate"));
 * ```
 */
export const LOAD_OUTCOME_DECLARATION: OutcomeDeclaration = {
  metrics: [
    { name: "iterations", unit: "count", description: "Iterations that ended, correct or not." },
    { name: "errors", unit: "count", description: "Iterations that failed." },
    {
      name: "error_rate",
      unit: "ratio",
      description: 'Failed iterations as a fraction of all (so "< 0.1%" reads).',
    },
    {
      name: "dropped_iterations",
      unit: "count",
      description: "Open model: arrivals due that never started (no VU was free in time).",
    },
    { name: "rate", unit: "1/s", description: "Iterations per second achieved." },
    {
      name: "asked_rate",
      unit: "1/s",
      description: "Iterations per second asked (the schedule's mean).",
      when: "open model",
    },
    { name: "bytes", unit: "bytes", description: "Bytes sent and received by all iterations." },
    { name: "duration_ms", unit: "ms", description: "Wall time of the run." },
    { name: "vus_max", unit: "count", description: "VUs that ran or were pre-allocated." },
    ...latencyMetrics("rtt", "from each iteration's intended start (corrected)"),
    ...latencyMetrics("rtt_uncorrected", "from each iteration's actual start"),
  ],
  facts: [
    { path: "model", type: "string", description: '"closed" or "open".' },
    { path: "interrupted", type: "boolean", description: "Whether the run stopped early." },
    { path: "errors_by_type", type: "object", description: "Failed iterations by error type." },
    { path: "errors_by_type.*", type: "number", description: "Failed iterations of that type." },
  ],
};

function latencyMetrics(prefix: string, what: string) {
  const names: [string, string][] = [
    ["p50", "Median"],
    ["p90", "90th percentile"],
    ["p99", "99th percentile"],
    ["p999", "99.9th percentile"],
    ["max", "Largest"],
    ["mean", "Mean"],
  ];
  return names.map(([suffix, text]) => ({
    name: `${prefix}_${suffix}_ms`,
    unit: "ms",
    description: `${text} latency of the correct iterations, ${what}.`,
  }));
}

/**
 * The report as an outcome. `ok` is `true` when at least one iteration ran
 * and none failed; otherwise `error` says how many failed and of which
 * types (or that none ran). Metrics are {@linkcode loadMetrics}'s.
 *
 * @param report A load report.
 * @returns The outcome.
 *
 * @example A run with a failed iteration is not ok
 * ```ts
 * import { checkLoadPlan, loadOutcome, runLoad } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * let n = 0;
 * const report = await runLoad(
 *   () => Promise.resolve({
 *     iterate: () => Promise.resolve(++n === 2 ? { ok: false, error: "ECONNRESET" } : { ok: true }),
 *     close: () => Promise.resolve(),
 *   }),
 *   checkLoadPlan({ vus: 1, iterations: 4 }),
 * );
 * const outcome = loadOutcome(report);
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.metrics.error_rate, 0.25);
 * assert.equal(outcome.error?.message, "1 of 4 iterations failed (ECONNRESET 1)");
 * ```
 */
export function loadOutcome(report: LoadReport): Outcome {
  const ok = report.iterations > 0 && report.errors === 0;
  const types = Object.entries(report.errorsByType).map(([t, n]) => `${t} ${n}`).join(", ");
  const errorsByType: Record<string, number> = Object.create(null);
  Object.assign(errorsByType, report.errorsByType);
  return {
    ok,
    metrics: loadMetrics(report),
    facts: { model: report.model, interrupted: report.interrupted, errors_by_type: errorsByType },
    ...(ok ? {} : {
      error: report.iterations === 0 ? { name: "LoadError", message: "no iteration ended" } : {
        name: "LoadError",
        message: `${report.errors} of ${report.iterations} iterations failed${
          types ? ` (${types})` : ""
        }`,
      },
    }),
  };
}
