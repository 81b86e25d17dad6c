import assert from "node:assert/strict";
import type { LatencySummary } from "./latency_histogram.ts";
import { summaryMetrics } from "./summary_metrics.ts";

const SUMMARY: LatencySummary = {
  count: 10,
  min: 0.037,
  mean: 0.05,
  max: 0.2,
  stddev: 0.01,
  p50: 0.045,
  p90: 0.06,
  p99: 0.15,
  p999: 0.19,
};

Deno.test("summaryMetrics() names every statistic <prefix>_<stat>_ms", () => {
  assert.deepEqual(summaryMetrics("rtt", SUMMARY), {
    rtt_min_ms: 0.037,
    rtt_p50_ms: 0.045,
    rtt_p90_ms: 0.06,
    rtt_p99_ms: 0.15,
    rtt_p999_ms: 0.19,
    rtt_max_ms: 0.2,
    rtt_mean_ms: 0.05,
    rtt_stddev_ms: 0.01,
  });
});

Deno.test("summaryMetrics() accepts a multi-word snake_case prefix", () => {
  const metrics = summaryMetrics("tls_handshake", SUMMARY);
  assert.equal(metrics.tls_handshake_p99_ms, 0.15);
  assert.equal(Object.keys(metrics).length, 8);
});

Deno.test("summaryMetrics() returns no entries for a summary with no samples", () => {
  const empty: LatencySummary = {
    count: 0,
    min: NaN,
    mean: NaN,
    max: NaN,
    stddev: NaN,
    p50: NaN,
    p90: NaN,
    p99: NaN,
    p999: NaN,
  };
  assert.deepEqual(summaryMetrics("rtt", empty), {});
});

Deno.test("summaryMetrics() throws TypeError for a prefix that is not snake_case", () => {
  for (const bad of ["", "RTT", "rtt_", "_rtt", "1rtt", "rtt-ms", "rtt__ms", "rtt ms"]) {
    assert.throws(() => summaryMetrics(bad, SUMMARY), {
      name: "TypeError",
      message: `Cannot name latency metrics: prefix "${bad}" is not snake_case`,
    });
  }
});
