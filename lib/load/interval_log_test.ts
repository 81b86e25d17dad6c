import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { deflateSync } from "node:zlib";
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
  assert.equal(merged.model, "open");
  assert.deepEqual(merged.latency, percentilesOf(all));
  assert.equal(merged.latency.count, 40_000);
  assert.equal(merged.uncorrected?.count, 40_000);
  assert.equal(merged.uncorrected?.p99, 0.001);
  // Every percentile row alike; only the footer's max is the bucket's (a log keeps no exact max).
  const rows = (text: string) => text.split("\n").filter((l) => !l.startsWith("#[Max"));
  assert.deepEqual(rows(merged.distribution), rows(all.outputPercentileDistribution(5, 1000)));
});

Deno.test("mergeIntervalLogs() refuses a line that is not an interval", () => {
  assert.throws(
    () => mergeIntervalLogs([intervalLogHeader(0) + "not,a,histogram\n"]),
    (e: Error) =>
      e instanceof SyntaxError &&
      /interval log 1 line 5: "not,a,histogram" is not an interval line/.test(e.message),
  );
});

// An interval line carrying `body` deflated, as a compressed histogram does.
function compressedLine(body: Uint8Array, tag = "corrected"): string {
  const deflated = deflateSync(body);
  const data = Buffer.alloc(8 + deflated.length);
  data.writeInt32BE(0x1c849304 | 0x10, 0);
  data.writeInt32BE(deflated.length, 4);
  data.set(deflated, 8);
  return `Tag=${tag},0.000,1.000,0.000,${data.toString("base64")}\n`;
}

// A histogram's encoded header (V2), then `payload`.
function encodedHistogram(digits: number, lowest: bigint, highest: bigint, payload: Uint8Array) {
  const body = Buffer.alloc(40 + payload.length);
  body.writeInt32BE(0x1c849303 | 0x10, 0);
  body.writeInt32BE(payload.length, 4);
  body.writeInt32BE(digits, 12);
  body.writeBigInt64BE(lowest, 16);
  body.writeBigInt64BE(highest, 24);
  body.writeDoubleBE(1, 32);
  body.set(payload, 40);
  return body;
}

function leb128(value: bigint): Uint8Array {
  const bytes: number[] = [];
  do {
    const low = Number(value & 0x7fn);
    value >>= 7n;
    bytes.push(value > 0n ? low | 0x80 : low);
  } while (value > 0n);
  return new Uint8Array(bytes);
}

Deno.test("mergeIntervalLogs() refuses a deflate bomb before inflating it", () => {
  // 64 MiB of zero counts behind a valid header: 64 KiB in the log.
  const bomb = compressedLine(encodedHistogram(3, 1n, 1000n, new Uint8Array(64 * 1024 * 1024)));
  assert.ok(bomb.length < 200_000);
  assert.throws(
    () => mergeIntervalLogs([intervalLogHeader(0) + bomb]),
    (e: Error) =>
      e instanceof SyntaxError &&
      /^Cannot read interval log 1 line 5: Cannot decode histogram: it does not inflate within 4194304 bytes/
        .test(e.message),
  );
});

Deno.test("mergeIntervalLogs() refuses impossible settings and counts", () => {
  const bad = [
    encodedHistogram(9, 1n, 1000n, new Uint8Array(1)),
    encodedHistogram(3, 0n, 1000n, new Uint8Array(1)),
    encodedHistogram(3, 1n, 2n ** 62n, new Uint8Array(1)),
    // ZigZag LEB128 of 2^60 at index 0: a count past what a double holds exactly.
    encodedHistogram(3, 1n, 1000n, leb128(2n ** 61n)),
  ];
  for (const body of bad) {
    assert.throws(
      () => mergeIntervalLogs([intervalLogHeader(0) + compressedLine(body)]),
      (e: Error) =>
        e instanceof SyntaxError &&
        /^Cannot read interval log 1 line 5: Cannot decode histogram: (impossible settings|\d+ would overflow integer count)/
          .test(e.message),
      JSON.stringify([...body.subarray(12, 32)]),
    );
  }
  // A good one beside them still merges.
  const h = loadHistogram();
  h.recordValue(1500);
  const good = intervalLogHeader(0) + `Tag=corrected,0.000,1.000,1.500,${encodeHistogram(h)}\n`;
  assert.equal(mergeIntervalLogs([good]).latency.count, 1);
});

Deno.test("a closed model's interval is one untagged line; logs of both models do not merge", () => {
  const h = loadHistogram();
  h.recordValue(2500);
  const closed = intervalLogHeader(0) + intervalLogLines({
    startMs: 0,
    endMs: 1000,
    corrected: encodeHistogram(h),
    correctedMaxMs: 2.5,
  }, 0);
  assert.deepEqual(closed.split("\n").slice(4), [`0.000,1.000,2.500,${encodeHistogram(h)}`, ""]);
  const merged = mergeIntervalLogs([closed, closed]);
  assert.equal(merged.model, "closed");
  assert.equal(merged.latency.count, 2);
  assert.equal(merged.uncorrected, undefined);
  const open = intervalLogHeader(0) + intervalLogLines({
    startMs: 0,
    endMs: 1000,
    corrected: encodeHistogram(h),
    correctedMaxMs: 2.5,
    uncorrected: encodeHistogram(h),
    uncorrectedMaxMs: 2.5,
  }, 0);
  assert.throws(
    () => mergeIntervalLogs([closed, open]),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot merge interval logs: interval log 1 line 5 is the closed model's and interval log 2 line 5 the open model's",
  );
});
