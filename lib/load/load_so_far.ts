/**
 * The metrics of a load run so far, from what the engine hands out once a
 * second (progress and the interval's histograms), for thresholds judged
 * during the run (a fixture step's `abortOnBreach`). Built from those
 * messages alone, it works the same when the run is in a plugin's process.
 *
 * @module
 */
import type { Histogram } from "hdr-histogram-js";
import type { LoadInterval } from "./_recorder.ts";
import { decodeHistogram, loadHistogram, percentilesOf } from "./_histogram.ts";
import type { LoadProgress } from "./run_load.ts";
import type { LatencyPercentiles } from "./types.ts";

/**
 * Adds up a running load's progress and interval histograms. Give it
 * `onInterval` and `onProgress` of the run (the engine calls `onInterval`
 * first each second, so the metrics after a progress include its second).
 *
 * @example Metrics after each second of a run
 * ```ts
 * import { checkLoadPlan, LoadSoFar, runLoad, runSessions } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const soFar = new LoadSoFar();
 * let seen: Record<string, number> = {};
 * await runLoad(
 *   runSessions(() => Promise.resolve({ ok: true, metrics: {}, facts: {} })),
 *   checkLoadPlan({ rate: 20, duration: "1100ms" }),
 *   {
 *     onInterval: (i) => soFar.interval(i),
 *     onProgress: (p) => {
 *       soFar.progress(p);
 *       seen = soFar.metrics();
 *     },
 *   },
 * );
 * assert.equal(seen.errors, 0);
 * assert.ok(seen.iterations >= 15);
 * assert.ok(seen.rtt_p99_ms >= 0);
 * ```
 */
export class LoadSoFar {
  readonly #corrected: Histogram = loadHistogram();
  readonly #uncorrected: Histogram = loadHistogram();
  #iterations = 0;
  #errors = 0;

  /**
   * Takes a second's histograms.
   *
   * @param interval What `onInterval` received.
   */
  interval(interval: LoadInterval): void {
    const corrected = decodeHistogram(interval.corrected);
    this.#corrected.add(corrected);
    // The closed model has one latency: its uncorrected metrics equal it.
    this.#uncorrected.add(
      interval.uncorrected === undefined ? corrected : decodeHistogram(interval.uncorrected),
    );
  }

  /**
   * Takes the counts so far.
   *
   * @param progress What `onProgress` received.
   */
  progress(progress: LoadProgress): void {
    this.#iterations = progress.iterations;
    this.#errors = progress.errors;
  }

  /**
   * The metrics so far that a run's end does not change the meaning of:
   * `iterations`, `errors`, `error_rate` and the latency percentiles
   * (`rtt_*_ms`, `rtt_uncorrected_*_ms`), named as `loadMetrics` names them;
   * `NaN` where there is nothing yet.
   *
   * @returns The metrics.
   */
  metrics(): Record<string, number> {
    const metrics: Record<string, number> = {
      iterations: this.#iterations,
      errors: this.#errors,
      error_rate: this.#iterations === 0 ? NaN : this.#errors / this.#iterations,
    };
    const put = (prefix: string, p: LatencyPercentiles) => {
      metrics[`${prefix}_p50_ms`] = p.p50;
      metrics[`${prefix}_p90_ms`] = p.p90;
      metrics[`${prefix}_p99_ms`] = p.p99;
      metrics[`${prefix}_p999_ms`] = p.p999;
      metrics[`${prefix}_max_ms`] = p.max;
      metrics[`${prefix}_mean_ms`] = p.mean;
    };
    put("rtt", percentilesOf(this.#corrected));
    put("rtt_uncorrected", percentilesOf(this.#uncorrected));
    return metrics;
  }
}
