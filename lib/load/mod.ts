/**
 * Load runs: any plugin's client role as load, in the closed model (VUs
 * back to back) or the open model (a rate, latency corrected for
 * coordinated omission), reported from HDR histograms.
 *
 * @example A short open-model run
 * ```ts
 * import { checkLoadPlan, runLoad, runSessions } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const report = await runLoad(
 *   runSessions(() => Promise.resolve({ ok: true, metrics: {}, facts: {} })),
 *   checkLoadPlan({ rate: 50, duration: "200ms" }),
 * );
 * assert.equal(report.model, "open");
 * assert.equal(report.iterations, 10);
 * ```
 *
 * @module
 */
export * from "./load_plan.ts";
export type { IterationResult, LoadInterval } from "./_recorder.ts";
export * from "./types.ts";
export * from "./arrival_schedule.ts";
export * from "./run_load.ts";
export * from "./load_report.ts";
export * from "./load_outcome.ts";
export * from "./load_so_far.ts";
export * from "./plugin_sessions.ts";
export * from "./shard_plan.ts";
export * from "./interval_log.ts";
