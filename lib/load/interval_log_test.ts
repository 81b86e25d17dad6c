import assert from "node:assert/strict";
import { encodeHistogram, loadHistogram, percentilesOf } from "./_histogram.ts";
import { intervalLogHeader, intervalLogLines, mergeIntervalLogs } from "./interval_log.ts";

Deno.test("mergeIntervalLogs() of 4 shards gives the percentiles of one histogram of all values", () => {
  // A deterministic spread from 3 µs to about 2 s, with a heavy tail.
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const all = loadHistogram();
  const logs: string[] = [];
  for (let shard = 0; shard < 4; shard++) {
    let log = intervalLogHeader(0);
    for (let second = 0; second < 5; second++) {
      const c = loadHistogram();
      const u = loadHistogram();
      for (let i = 0; i < 2000; i++) {
        const us = Math.round(3 + 2e6 * next() ** 6);
        c.recordValue(us);
        all.recordValue(us);
        u.recordValue(1);
      }
      log += intervalLogLines({
        startMs: second * 1000,
        endMs: second * 1000 + 1000,
        corrected: encodeHistogram(c),
        correctedMaxMs: c.maxValue / 1000,
        uncorrected: encodeHistogram(u),
        uncorrectedMaxMs: u.maxValue / 1000,
      }, 0);
    }
    logs.push(log);
  }
  const merged = mergeIntervalLogs(logs);
  assert.equal(merged.intervals, 4 * 5 * 2);
  assert.deepEqual(merged.corrected, percentilesOf(all));
  assert.equal(merged.corrected.count, 40_000);
  assert.equal(merged.uncorrected.count, 40_000);
  assert.equal(merged.uncorrected.p99, 0.001);
  // Every percentile row alike; only the footer's max is the bucket's (a log keeps no exact max).
  const rows = (text: string) => text.split("\n").filter((l) => !l.startsWith("#[Max"));
  assert.deepEqual(rows(merged.distribution), rows(all.outputPercentileDistribution(5, 1000)));
});

Deno.test("mergeIntervalLogs() refuses a line that is not an interval", () => {
  assert.throws(
    () => mergeIntervalLogs([intervalLogHeader(0) + "not,a,histogram\n"]),
    (e: Error) => e instanceof SyntaxError && /interval log 1: "not,a,histogram"/.test(e.message),
  );
});
