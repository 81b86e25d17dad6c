/**
 * Metrics: a latency histogram with percentiles in constant memory,
 * throughput counters, and the helper that turns a latency summary into
 * outcome metrics (`rtt_p99_ms`…).
 *
 * @example Timing round trips and reporting them
 * ```ts
 * import { LatencyHistogram, summaryMetrics, Throughput } from "@wiretest/wiretest/metrics";
 * import assert from "node:assert/strict";
 *
 * const rtt = new LatencyHistogram();
 * const throughput = new Throughput().start();
 * for (let i = 0; i < 100; i++) {
 *   const sent = performance.now();
 *   throughput.add(64);
 *   rtt.record(performance.now() - sent);
 * }
 * throughput.stop();
 *
 * const metrics: Record<string, number> = {
 *   bytes_sent: throughput.bytes,
 *   ...summaryMetrics("rtt", rtt.summary()),
 * };
 * assert.equal(metrics.bytes_sent, 6400);
 * assert.ok(metrics.rtt_p50_ms <= metrics.rtt_p99_ms);
 * assert.ok(metrics.rtt_p99_ms <= metrics.rtt_max_ms);
 * ```
 *
 * @module
 */
export * from "./latency_histogram.ts";
export * from "./throughput.ts";
export * from "./summary_metrics.ts";
