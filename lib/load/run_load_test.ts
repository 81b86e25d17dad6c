import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { builtinRegistry } from "../../plugins/manifest.ts";
import { startServer } from "../plugin/run.ts";
import { formatAddress } from "../transport/mod.ts";
import { freePort, spawnPeer, waitForTcp } from "../../tests/_support/peer.ts";
import { ArrivalSchedule } from "./arrival_schedule.ts";
import { checkLoadPlan } from "./load_plan.ts";
import { loadMetrics } from "./load_report.ts";
import { pluginSessions } from "./plugin_sessions.ts";
import { MAX_BACKOFF_MS, runLoad } from "./run_load.ts";
import type { IterationResult } from "./_recorder.ts";

const STALLING_ECHO = fileURLToPath(
  new URL("../../tests/data/load/stalling_echo.py", import.meta.url),
);

Deno.test("runLoad() open model: a server stalling 200 ms once a second shows in the corrected p99, not the uncorrected one", async () => {
  const port = freePort();
  await using _peer = spawnPeer("python3", [STALLING_ECHO, String(port)]);
  await waitForTcp(port);
  const echo = await builtinRegistry().load("echo");
  // One VU at 200/s: a stall holds it, the arrivals behind it wait, and only
  // the corrected latency (from each intended start) counts that wait.
  const report = await runLoad(
    pluginSessions(echo, { target: `127.0.0.1:${port}`, timeoutMs: 2000 }),
    checkLoadPlan({ rate: 200, duration: "3s", maxVus: 1, preAllocatedVus: 1 }),
  );
  assert.equal(report.errors, 0);
  assert.ok(report.iterations >= 400, `iterations ${report.iterations}`);
  assert.ok(report.latency.p99 >= 150, `corrected p99 ${report.latency.p99} ms`);
  assert.ok(report.latency.max >= 150, `corrected max ${report.latency.max} ms`);
  // Low: a loaded machine's own pauses may add tens of ms, never the stall's 200.
  assert.ok(report.uncorrected.p99 < 100, `uncorrected p99 ${report.uncorrected.p99} ms`);
  // The stalled round trips themselves are in the uncorrected max.
  assert.ok(report.uncorrected.max >= 150, `uncorrected max ${report.uncorrected.max} ms`);
});

Deno.test("runLoad() closed model: a refused target counts errors by type and backs off", async () => {
  const port = freePort();
  const echo = await builtinRegistry().load("echo");
  const report = await runLoad(
    pluginSessions(echo, { target: `127.0.0.1:${port}`, timeoutMs: 1000 }),
    checkLoadPlan({ vus: 2, duration: "1s" }),
  );
  assert.equal(report.errors, report.iterations);
  assert.ok(report.iterations >= 2);
  assert.deepEqual(Object.keys(report.errorsByType).length, 1);
  // Back-off 10, 20, 40 … ms: within 1 s a VU tries at most 8 times (not thousands).
  assert.ok(report.iterations <= 2 * 8, `attempts ${report.iterations}`);
  assert.equal(MAX_BACKOFF_MS, 1000);
  assert.ok(Number.isNaN(loadMetrics(report).rtt_p99_ms));
  assert.equal(loadMetrics(report).error_rate, 1);
});

Deno.test("runLoad() closed model: one echo connection per VU, iterations exactly as asked", async () => {
  const echo = await builtinRegistry().load("echo");
  const server = await startServer(echo, {});
  try {
    const report = await runLoad(
      pluginSessions(echo, { target: formatAddress(server.address), payloadSize: 16 }),
      checkLoadPlan({ vus: 4, iterations: 200 }),
    );
    assert.equal(report.iterations, 200);
    assert.equal(report.errors, 0);
    assert.equal(report.bytes, 200 * 16 * 2);
    assert.equal(server.stats().connections, 4);
    assert.equal(report.latency.count, 200);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() stopped by its signal: a partial report, marked interrupted", async () => {
  const echo = await builtinRegistry().load("echo");
  const server = await startServer(echo, {});
  const controller = new AbortController();
  let seconds = 0;
  try {
    const report = await runLoad(
      pluginSessions(echo, { target: formatAddress(server.address) }),
      checkLoadPlan({ vus: 2, duration: "1h" }),
      {
        signal: controller.signal,
        onProgress: () => {
          if (++seconds === 1) controller.abort();
        },
      },
    );
    assert.equal(report.interrupted, true);
    assert.ok(report.iterations > 0);
    assert.equal(report.errors, 0);
  } finally {
    await server.close();
  }
});

Deno.test("runLoad() open model: a generic plugin run per iteration at the asked rate", async () => {
  // udp-ping without its session hook: each iteration is its whole run.
  const udpPing = await builtinRegistry().load("udp-ping");
  const { session: _, ...client } = udpPing.client!;
  const ping = { ...udpPing, client };
  const server = await startServer(ping, {});
  try {
    const report = await runLoad(
      // Deno sockets: the libc path starts a Worker per run, which is not what this measures.
      pluginSessions(ping, { target: formatAddress(server.address), count: 1, io: "deno" }),
      checkLoadPlan({ rate: 20, duration: "1s" }),
    );
    assert.equal(report.iterations, 20);
    assert.equal(report.errors, 0);
    assert.equal(report.dropped, 0);
    assert.equal(report.askedRate, 20);
  } finally {
    await server.close();
  }
});

Deno.test("ArrivalSchedule ramps by the integral of the rate", () => {
  const ramp = new ArrivalSchedule(0, [{ durationMs: 10_000, target: 100 }], 0);
  let n = 0;
  let last = -1;
  for (let t = ramp.next(); t !== undefined; t = ramp.next()) {
    assert.ok(t > last);
    last = t;
    n++;
  }
  assert.equal(n, 500);
  const steps = new ArrivalSchedule(10, [{ durationMs: 1000, target: 10 }, {
    durationMs: 1000,
    target: 30,
  }], 0);
  let count = 0;
  while (steps.next() !== undefined) count++;
  assert.equal(count, 10 + 20);
});

Deno.test("checkLoadPlan() refuses 0, negative, absurd counts and durations without a unit", () => {
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    [{ vus: 0, duration: "1s" }, RangeError, /"vus" must be at least 1/],
    [{ vus: -3, duration: "1s" }, RangeError, /"vus"/],
    [{ vus: 1e12, duration: "1s" }, RangeError, /at most 10000/],
    [{ rate: 0, duration: "1s" }, RangeError, /"rate" must be at least 1e-9/],
    [{ rate: -5, duration: "1s" }, RangeError, /"rate"/],
    [{ rate: 1e12, duration: "1s" }, RangeError, /at most 1000000/],
    [{ vus: 1, duration: "10" }, SyntaxError, /add a unit/],
    [{ vus: 1, duration: 10 }, SyntaxError, /with a unit/],
    [{ vus: 1, duration: "0s" }, RangeError, /above 0/],
    [{ vus: 1, duration: "2d" }, SyntaxError, /duration/],
    [{ vus: 1 }, RangeError, /"duration", "iterations" or "stages"/],
    [{ vus: 1, rate: 5, duration: "1s" }, TypeError, /not both/],
    [{ duration: "1s" }, TypeError, /give "vus"/],
    [{ vus: 1.5, duration: "1s" }, RangeError, /whole number/],
    [{ vus: 1, iterations: 0 }, RangeError, /"iterations"/],
    [{ rate: 10, duration: "1s", maxVus: 0 }, RangeError, /"maxVus"/],
    [{ vus: 1, duration: "1s", vu: 2 }, TypeError, /unknown field "vu"/],
    [{ rate: 10, stages: [{ duration: "1s", target: -1 }] }, RangeError, /stages\[0\]\.target/],
  ];
  for (const [input, kind, message] of bad) {
    assert.throws(
      () => checkLoadPlan(input as never),
      (e: Error) => e instanceof kind && message.test(e.message) && e.message.startsWith("Cannot"),
      JSON.stringify(input),
    );
  }
});

Deno.test("runLoad() open model: the rate achieved is over the schedule, not the wait for the last replies", async () => {
  const slow = () =>
    Promise.resolve({
      iterate: () => new Promise<{ ok: boolean }>((r) => setTimeout(() => r({ ok: true }), 2000)),
      close: () => Promise.resolve(),
    });
  const report = await runLoad(slow, checkLoadPlan({ rate: 20, duration: "1s", maxVus: 20 }));
  assert.equal(report.iterations, 20);
  // The run took ~3 s (the last replies); 20 iterations were sent over 1 s,
  // or over the dispatch when a loaded machine ran it late (a second late
  // here still reads above 10/s, where 20 over the whole run read 6.7).
  assert.ok(report.elapsedMs >= 2900, `elapsed ${report.elapsedMs}`);
  assert.ok(report.rate <= 20 && report.rate > 10, `rate ${report.rate}`);
});

Deno.test("runLoad(): an iteration still running when the grace period after the end runs out is an error, unfinished; a caller's stop is not", async () => {
  const hanging = () =>
    Promise.resolve({
      iterate: (signal: AbortSignal) =>
        new Promise<IterationResult>((_, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason), { once: true })
        ),
      close: () => Promise.resolve(),
    });
  const ended = await runLoad(hanging, checkLoadPlan({ vus: 2, duration: "50ms" }), {
    gracefulStopMs: 20,
  });
  assert.equal(ended.errors, 2);
  assert.equal(ended.errorsByType.unfinished, 2);
  assert.equal(ended.interruptedIterations, 0);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const stopped = await runLoad(hanging, checkLoadPlan({ vus: 2, duration: "10s" }), {
    signal: controller.signal,
  });
  assert.equal(stopped.errors, 0);
  assert.equal(stopped.interruptedIterations, 2);
  assert.equal(stopped.interrupted, true);
});
