/**
 * The udp-ping client role: sends numbered, timestamped datagrams to an echo
 * peer and reports loss, duplicates, reordering, late replies, round-trip
 * times and jitter.
 *
 * @module
 */
import {
  ConnectionError,
  type Context,
  describeError,
  type Outcome,
} from "../../lib/plugin/mod.ts";
import { summaryMetrics } from "../../lib/metrics/mod.ts";
import { formatAddress, parseHostPort } from "../../lib/transport/mod.ts";
import {
  bindUdp,
  libcUdpRefusal,
  MAX_UDP_PAYLOAD,
  type UdpTarget,
} from "../../lib/transport/unstable_udp.ts";
import { HEADER_SIZE, PingPacket } from "./_packet.ts";
import { localAddressFor, resolvePeer } from "./_peer.ts";
import { PingRun } from "./_ping_run.ts";
import { runNativePing } from "./_native_ping.ts";
import type { PingResult } from "./_ping_result.ts";
import { RTT_SERIES_POINTS } from "./_tally.ts";
import { readSocketDrops } from "./_socket_drops.ts";
import { NoReplyError } from "./no_reply_error.ts";
import { WARM_UP_MAX } from "./_warm_up.ts";
import type { UdpPingClientParams } from "./params.ts";

/**
 * Pings a UDP echo peer `count` times and reports what came back.
 *
 * Each datagram is `size` bytes: a 20-byte big-endian header (magic, an
 * identifier random per run, sequence number, send time) and random padding
 * fixed for the run. With `intervalMs` above 0 pings leave on that schedule
 * whatever the replies, as `ping` does; with 0 the next ping leaves as soon
 * as the previous one is answered or timed out (one outstanding). The run ends
 * when every ping is answered or timed out, at most `timeoutMs` after the last
 * send.
 *
 * Before the first timed ping, `warmUp` untimed pings (default 5) go to the
 * same target from the same socket, one at a time, each waited for up to
 * `timeoutMs` but at most 1 s; the first without an echo in time ends the
 * warm-up, so a dead peer costs one wait. They carry a magic of their own:
 * their echoes, even late ones arriving among the timed pings, count in no
 * metric (not lost, foreign, duplicated or reordered), nor does anything
 * else that arrives during the warm-up, and a udp-ping server counts them
 * apart (`warm_up_in`). Fact `warm_up` says how many were sent
 * and answered; `duration_ms` starts after the warm-up. On the libc path an
 * ICMP error met during the warm-up ends it and is not in `unreachable`.
 *
 * The `io` param picks the I/O path (fact `io`). On `libc` the whole run is
 * one blocking loop of libc calls through FFI in a Worker of its own: a send
 * is timed by `clock_gettime` right before `sendto`, an arrival by the
 * kernel's `SO_TIMESTAMPNS` receive timestamp (fact `clock`: `kernel-rx`;
 * `realtime` when the kernel gave none). On `deno` (the runtime's sockets)
 * both are `performance.now()` taken the moment the runtime delivers the
 * datagram (`clock`: `performance.now`). `auto` takes `libc` where
 * `libcUdpRefusal()` allows it: FFI granted for libc's path and net for
 * both addresses. An isolated plugin has FFI only from its manifest entry's
 * `ffi` grant (the built-in manifest gives udp-ping `["libc"]`, so `wiretest
 * ping` measures on `libc`); without it, or with `--no-ffi`, `auto` runs on
 * `deno`.
 * Sizes, timeouts, aborts and counting are the same on both paths.
 * Each datagram counts in exactly one way:
 * - `received`: the first echo of a ping within `timeoutMs`; `rtt_*_ms` and
 *   `jitter_ms` describe these. Of them, `reordered` arrived after an echo of a
 *   newer ping.
 * - `late`: the first echo of a ping after `timeoutMs`; not received, so the
 *   ping is also in `lost` (`lost = sent - received`).
 * - `duplicates`: any further echo of a ping already received or late.
 * - `foreign`: from another address or port than the target, or without this
 *   run's magic and identifier (including datagrams too short to carry them).
 * - `malformed`: this run's identifier, but cut, lengthened, garbled, or for a
 *   ping never sent.
 * Echoes that arrive after the run ended are not counted.
 *
 * `receive_drops` counts the datagrams this host's kernel dropped on their
 * way into the run's own socket, its receive buffer full (a burst of large
 * echoes faster than the run reads): part of `lost` (or of what would have
 * been duplicates) that the network did not lose. On `libc` the kernel says
 * so with each datagram (`SO_RXQ_OVFL`) and in one `getsockopt`
 * (`SO_MEMINFO`) after the run; on `deno` it is the socket's `drops` column
 * of /proc/net/udp (or udp6), read before and after the run, which Deno
 * allows only with `--allow-all` (so not in a plugin's process). Both reads
 * are outside the timed run. When it cannot be counted, fact
 * `receive_drops_unknown` says why and the metric is absent.
 *
 * `jitter_ms` is the RFC 3550 interarrival jitter (`J += (|D| - J) / 16`) with
 * the round-trip time as transit time, over received pings in arrival order;
 * it and `rtt_*_ms` are absent when too few pings were received.
 *
 * The outcome is `ok` when the exchange ran to its end and at least one ping
 * was received, whatever else was lost: fixtures judge loss. A run that
 * received nothing measured nothing: `ok: false` with a
 * {@linkcode NoReplyError} (code `no-reply`) and the metrics. When
 * `ctx.signal` aborts or the socket fails mid-run, the outcome is `ok: false`
 * with `error` and the metrics gathered so far.
 *
 * @param params Target, count, interval, size and timeout (see {@linkcode UdpPingClientParams}).
 * @param ctx The run's context: its signal stops the run.
 * @returns Metrics `sent`, `received`, `lost`, `loss_pct`, `duplicates`,
 * `reordered`, `late`, `foreign`, `malformed`, `receive_drops`, `rtt_*_ms`,
 * `jitter_ms`, `duration_ms`; facts `target`, `peer`, `local`, `identifier`,
 * `warm_up`, `io`, `clock`, `receive_drops_unknown`.
 * @throws {RangeError} When a param is out of range (e.g. `size` beyond
 * 65,507 bytes), before anything is sent.
 * @throws {TypeError} When `target` is not `host:port`.
 * @throws {ConnectionError} When the target name cannot be resolved or the socket cannot be bound.
 * @throws {RangeError} With `io: "libc"` where that path is refused.
 *
 * @example Pinging the udp-ping server
 * ```ts
 * import { pingUdp, serveUdpPing } from "@wiretest/wiretest/plugins/udp-ping";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * using ctx = createContext({ timeout: 10_000 });
 * const server = await serveUdpPing({ host: "127.0.0.1", port: 0, io: "auto" }, ctx);
 * const { port } = server.address as Deno.NetAddr;
 * const outcome = await pingUdp(
 *   { target: `127.0.0.1:${port}`, count: 5, intervalMs: 10, size: 64, timeoutMs: 1000, warmUp: 3, io: "auto" },
 *   ctx,
 * );
 * assert.equal(outcome.ok, true);
 * assert.equal(outcome.metrics.received, 5);
 * assert.equal(outcome.metrics.loss_pct, 0);
 * assert.deepEqual(outcome.facts.warm_up, { sent: 3, answered: 3 });
 * // The server counts the warm-up apart from the timed pings.
 * assert.deepEqual([server.stats().datagrams_in, server.stats().warm_up_in], [5, 3]);
 * await server.close();
 * ```
 */
export async function pingUdp(params: UdpPingClientParams, ctx: Context): Promise<Outcome> {
  checkParams(params);
  const { hostname, port } = parseHostPort(params.target);
  const where = formatAddress({ transport: "udp", hostname, port });
  if (port === 0) throw new RangeError(`Cannot ping ${where}: port "0" is not a destination`);
  const ip = await resolvePeer(hostname, where, ctx.signal);
  ctx.signal.throwIfAborted();
  const peer = { hostname: ip, port };
  const packet = new PingPacket(params.size);
  const bindHostname = localAddressFor(ip);
  const run = await runPings(params, { peer, packet, bindHostname, where }, ctx);
  const { tally } = run;

  const lost = tally.sent - tally.received;
  const metrics: Record<string, number> = {
    sent: tally.sent,
    received: tally.received,
    lost,
    duplicates: tally.duplicates,
    reordered: tally.reordered,
    late: tally.late,
    foreign: tally.foreign,
    malformed: tally.malformed,
    ...summaryMetrics("rtt", run.rtt.summary()),
    duration_ms: run.durationMs,
  };
  if (tally.sent > 0) metrics.loss_pct = lost / tally.sent * 100;
  if (tally.received >= 2) metrics.jitter_ms = tally.jitter;
  if (tally.unreachable !== undefined) metrics.unreachable = tally.unreachable;
  if (typeof run.receiveDrops === "number") metrics.receive_drops = run.receiveDrops;
  const outcome: Outcome = {
    ok: run.error === undefined,
    metrics,
    facts: {
      target: params.target,
      peer: formatAddress({ transport: "udp", ...peer }),
      local: run.local,
      identifier: packet.id.toString(16).padStart(8, "0"),
      io: run.io,
      clock: run.clock,
      ...(typeof run.receiveDrops === "string" ? { receive_drops_unknown: run.receiveDrops } : {}),
      warm_up: { sent: tally.warmUpSent, answered: tally.warmUpAnswered },
      ...(run.rtt.count > 0 ? { rtt_percentiles: run.rtt.percentileCurve() } : {}),
      ...(tally.sent > 0 ? { rtt_by_seq: run.rttBySeq } : {}),
    },
  };
  if (run.error !== undefined) {
    outcome.error = describeError(run.error);
  } else if (tally.sent > 0 && tally.received === 0 && (tally.unreachable ?? 0) > 0) {
    // The kernel said nothing listens there: a refusal, as for TCP.
    outcome.ok = false;
    outcome.error = describeError(
      new ConnectionError({
        code: "refused",
        operation: "ping",
        address: params.target,
        detail: `port unreachable (ICMP) for ${tally.unreachable} of ${tally.sent} pings`,
      }),
    );
  } else if (tally.sent > 0 && tally.received === 0) {
    // Nothing measured is a failure, not a 100% loss that passes: echo over
    // UDP fails the same way.
    const seen = (["late", "malformed", "foreign"] as const)
      .filter((name) => tally[name] > 0)
      .map((name) => `${tally[name]} ${name}`);
    outcome.ok = false;
    outcome.error = describeError(
      new NoReplyError({
        target: params.target,
        sent: tally.sent,
        timeoutMs: params.timeoutMs,
        instead: seen.join(", "),
      }),
    );
  }
  return outcome;
}

// The libc path when `io` allows it and it may be used (FFI for libc, net for
// both addresses), else the runtime's sockets.
async function runPings(
  params: UdpPingClientParams,
  o: { peer: UdpTarget; packet: PingPacket; bindHostname: string; where: string },
  ctx: Context,
): Promise<PingResult> {
  if (params.io !== "deno") {
    const refused = libcUdpRefusal([o.peer, { hostname: o.bindHostname, port: 0 }]) ??
      await runNativePing({
        bindHostname: o.bindHostname,
        peer: o.peer,
        id: o.packet.id,
        size: params.size,
        count: params.count,
        warmUp: params.warmUp,
        intervalMs: params.intervalMs,
        timeoutMs: params.timeoutMs,
      }, ctx);
    if (typeof refused !== "string" && !("refused" in refused)) return refused;
    if (params.io === "libc") {
      const reason = typeof refused === "string" ? refused : refused.refused;
      throw new RangeError(`Cannot ping ${o.where}: io "libc" is not available: ${reason}`);
    }
  }
  const socket = bindUdp({ hostname: o.bindHostname, port: 0 });
  // Read outside the timed run: before it starts and after it ended.
  const dropsBefore = readSocketDrops(socket.addr.hostname, socket.addr.port);
  let dropsAfter: number | string = dropsBefore;
  const run = new PingRun({
    socket,
    peer: o.peer,
    packet: o.packet,
    count: params.count,
    warmUp: params.warmUp,
    intervalMs: params.intervalMs,
    timeoutMs: params.timeoutMs,
    ctx,
    beforeClose: () => {
      if (typeof dropsBefore === "number") {
        dropsAfter = readSocketDrops(socket.addr.hostname, socket.addr.port);
      }
    },
  });
  const local = formatAddress(socket.addr);
  await run.run();
  return {
    tally: run.tally,
    rtt: run.rtt,
    rttBySeq: run.tally.rttSeries(RTT_SERIES_POINTS),
    durationMs: run.endedAt - run.startedAt,
    error: run.error,
    local,
    io: "deno",
    clock: "performance.now",
    receiveDrops: typeof dropsBefore !== "number"
      ? dropsBefore
      : typeof dropsAfter !== "number"
      ? dropsAfter
      : dropsAfter - dropsBefore,
  };
}

function checkParams(p: UdpPingClientParams): void {
  const fail = (name: string, value: unknown, range: string) => {
    throw new RangeError(`Cannot ping "${p.target}": ${name} "${value}" is not ${range}`);
  };
  if (!Number.isInteger(p.size) || p.size < HEADER_SIZE || p.size > MAX_UDP_PAYLOAD) {
    fail("size", p.size, `an integer from ${HEADER_SIZE} to ${MAX_UDP_PAYLOAD} bytes`);
  }
  if (!Number.isInteger(p.count) || p.count < 1 || p.count > 1_000_000) {
    fail("count", p.count, "an integer from 1 to 1000000");
  }
  if (!(p.intervalMs >= 0 && Number.isFinite(p.intervalMs))) {
    fail("intervalMs", p.intervalMs, "a finite number of at least 0");
  }
  if (!(p.timeoutMs > 0 && Number.isFinite(p.timeoutMs))) {
    fail("timeoutMs", p.timeoutMs, "a finite number above 0");
  }
  if (!Number.isInteger(p.warmUp) || p.warmUp < 0 || p.warmUp > WARM_UP_MAX) {
    fail("warmUp", p.warmUp, `an integer from 0 to ${WARM_UP_MAX}`);
  }
}
