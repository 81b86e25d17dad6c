/**
 * The echo client role: sends a payload over many connections, reads the
 * echo back and counts every byte that differs.
 *
 * @module
 */
import { TimeoutError } from "../../lib/transport/plain.ts";
import { LatencyHistogram, summaryMetrics, Throughput } from "../../lib/metrics/mod.ts";
import { type Context, describeError, type Outcome } from "../../lib/plugin/mod.ts";
import { prepareConnector } from "./_connect.ts";
import type { Link, Tally } from "./_links.ts";
import { payloadFor } from "./_payload.ts";
import { type EchoClientParams, resolveTransport } from "./params.ts";

/** A connection's state, as the watchdog sees it. */
interface Session {
  link?: Link;
  /** `performance.now()` when the current round trip began; -1 between round trips. */
  started: number;
  timedOut: boolean;
}

/**
 * Runs echo round trips and reports what came back.
 *
 * Each of `connections` connections (in parallel) does `count` round trips,
 * or round trips until `durationMs` passes. A round trip writes the payload
 * and reads exactly as many bytes back, comparing them as they arrive.
 *
 * Metrics: `bytes_sent`, `bytes_received`, `round_trips`, `mismatches` (bytes
 * that differ), `connections` (opened), `errors` (connections that failed),
 * `connect_ms` (mean) and `connect_p99_ms`, `rtt_*_ms`, `round_trips_per_s`,
 * `throughput_mib_s` (bytes echoed back per second, in MiB/s, over the whole
 * run) and `duration_ms`. Facts: `transport`, `target`, `payload_bytes`.
 *
 * It does not throw for a failed exchange: a refused connection, a timeout or
 * a peer that closes early comes back as `ok: false` with the first error and
 * the metrics gathered so far (other connections carry on). `ok` is `true`
 * when every round trip completed with no mismatch; bytes that differ with no
 * other failure give the error `MismatchError` (code `mismatch`). A run with
 * `durationMs` that ends before any round trip completed (connecting took
 * longer) measured nothing: `NoRoundTripError` (code `no-round-trip`).
 *
 * @param params Validated client params.
 * @param ctx The run context; its signal and deadline stop the run.
 * @returns The outcome.
 * @throws {Error} Only when a file it needs (a TLS CA) cannot be read.
 *
 * @example Ten round trips against the echo server
 * ```ts
 * import { runEchoClient, startEchoServer } from "@wiretest/wiretest/plugins/echo";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const server = await startEchoServer({});
 * const outcome = await runEchoClient({ target: formatAddress(server.address), count: 10 });
 * await server.close();
 * assert.equal(outcome.ok, true);
 * assert.equal(outcome.metrics.round_trips, 10);
 * assert.equal(outcome.metrics.bytes_received, 50);
 * ```
 */
export async function runEcho(params: EchoClientParams, ctx: Context): Promise<Outcome> {
  const transport = resolveTransport(params);
  const payload = payloadFor(params);
  const open = await prepareConnector(params, transport);
  const tally: Tally = { bytes_sent: 0, bytes_received: 0, mismatches: 0 };
  const rtt = new LatencyHistogram();
  const connectTimes = new LatencyHistogram();
  const throughput = new Throughput().start();
  const sessions = new Set<Session>();
  let opened = 0;
  let errors = 0;
  let firstError: unknown;
  const perConnection = params.durationMs === undefined ? params.count ?? 1 : Infinity;
  const endAt = params.durationMs === undefined ? Infinity : performance.now() + params.durationMs;
  const totalBytes = Number.isFinite(perConnection)
    ? payload.length * perConnection * params.connections
    : undefined;

  const runOne = async () => {
    const session: Session = { started: -1, timedOut: false };
    sessions.add(session);
    try {
      session.link = await open(payload, tally, ctx.signal);
      // An abort while connecting found no link to close.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (session.link.connectMs !== undefined) connectTimes.record(session.link.connectMs);
      opened++;
      for (let i = 0; i < perConnection && performance.now() < endAt; i++) {
        const started = session.started = performance.now();
        await session.link.roundTrip();
        rtt.record(performance.now() - started);
        session.started = -1;
      }
      await session.link.end();
    } catch (error) {
      errors++;
      firstError ??= session.timedOut
        ? new TimeoutError({
          // A peer that stops reading leaves the write pending: name that.
          operation: transport === "udp" ? "receive" : session.link?.writing ? "write" : "read",
          address: params.target,
          timeoutMs: params.timeoutMs,
          cause: error,
        })
        : ctx.signal.aborted
        ? ctx.signal.reason
        : error;
    } finally {
      session.link?.close();
      sessions.delete(session);
    }
  };

  // One timer for all connections rather than one per round trip: it closes
  // a connection whose round trip overran, which fails that round trip.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const session of sessions) {
      if (session.started >= 0 && now - session.started > params.timeoutMs) {
        session.timedOut = true;
        session.link?.close();
      }
    }
    ctx.progress({ done: tally.bytes_received, total: totalBytes, unit: "bytes" });
  }, Math.min(250, Math.max(10, params.timeoutMs / 10)));
  const onAbort = () => {
    for (const session of sessions) session.link?.close();
  };
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await Promise.all(Array.from({ length: params.connections }, runOne));
  } finally {
    clearInterval(watchdog);
    ctx.signal.removeEventListener("abort", onAbort);
  }
  throughput.add(tally.bytes_received, rtt.count);
  throughput.stop();

  const connectSummary = connectTimes.summary();
  const metrics: Record<string, number> = {
    bytes_sent: tally.bytes_sent,
    bytes_received: tally.bytes_received,
    round_trips: rtt.count,
    mismatches: tally.mismatches,
    connections: opened,
    errors,
    ...(connectSummary.count > 0
      ? { connect_ms: connectSummary.mean, connect_p99_ms: connectSummary.p99 }
      : {}),
    ...summaryMetrics("rtt", rtt.summary()),
    round_trips_per_s: throughput.opsPerSecond,
    throughput_mib_s: throughput.mibPerSecond,
    duration_ms: throughput.seconds * 1000,
  };
  const outcome: Outcome = {
    ok: errors === 0 && tally.mismatches === 0 && rtt.count > 0,
    metrics,
    facts: {
      transport,
      target: params.target,
      payload_bytes: payload.length,
      ...(rtt.count > 0 ? { rtt_percentiles: rtt.percentileCurve() } : {}),
    },
  };
  if (firstError !== undefined) {
    outcome.error = describeError(firstError);
  } else if (rtt.count === 0) {
    // Only `durationMs` can end a run before its first round trip (connecting
    // took longer): a run that measured nothing has not passed.
    outcome.error = {
      name: "NoRoundTripError",
      code: "no-round-trip",
      message: `Cannot measure echo from ${params.target}: no round trip completed within ${
        params.durationMs ?? params.timeoutMs
      } ms`,
    };
  } else if (tally.mismatches > 0) {
    // Every round trip completed, but not with the bytes sent: say so, as a
    // failed exchange would, rather than leave ok false without a reason.
    outcome.error = {
      name: "MismatchError",
      code: "mismatch",
      message:
        `Cannot verify echo from ${params.target}: ${tally.mismatches} of ${tally.bytes_received} bytes received differ from those sent`,
    };
  }
  return outcome;
}
