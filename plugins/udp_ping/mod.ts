/**
 * udp-ping: a UDP echo server, and a client that pings any UDP echo peer
 * (this server, `socat`, a Python `recvfrom`/`sendto` loop…) and reports
 * loss, duplicates, reordering, late replies, round-trip times and jitter.
 *
 * @example Pinging the server from code
 * ```ts
 * import { runUdpPingClient, startUdpPingServer } from "@wiretest/wiretest/plugins/udp-ping";
 * import assert from "node:assert/strict";
 *
 * const server = await startUdpPingServer();
 * const { port } = server.address as Deno.NetAddr;
 * const outcome = await runUdpPingClient({ target: `127.0.0.1:${port}`, count: 3, intervalMs: 5 });
 * await server.close();
 * assert.equal(outcome.metrics.received, 3);
 * assert.ok(outcome.metrics.rtt_p50_ms >= 0);
 * ```
 *
 * @module
 */
import {
  definePlugin,
  type Outcome,
  type Plugin,
  runClient,
  type RunOptions,
  type Service,
  startServer,
} from "../../lib/plugin/mod.ts";
import { pingUdp } from "./client.ts";
import { openUdpPingSession, UDP_PING_LOAD_ITERATION } from "./_load_session.ts";
import {
  type UdpPingClientOptions,
  type UdpPingClientParams,
  udpPingClientParams,
  type UdpPingServerOptions,
  type UdpPingServerParams,
  udpPingServerParams,
} from "./params.ts";
import { serveUdpPing } from "./server.ts";
import { udpPingOutcome, udpPingStats } from "./_outcome.ts";

export * from "./params.ts";
export * from "./client.ts";
export * from "./server.ts";
export * from "./no_reply_error.ts";

/**
 * One to four lines for people about a udp-ping outcome: counts and loss
 * with the I/O path and clock that timed them (facts `io`, `clock`),
 * round-trip times and jitter, then why the run stopped early or else anything
 * odd that was seen (duplicates, reordering, foreign or malformed datagrams),
 * then, when this host's receive buffer dropped datagrams (`receive_drops`),
 * how many of the lost may be this host's and not the network's.
 *
 * @param outcome What {@linkcode pingUdp} returned.
 * @returns The lines, joined with `\n`.
 *
 * @example Summarising an outcome
 * ```ts
 * import { summarizeUdpPing } from "@wiretest/wiretest/plugins/udp-ping";
 * import assert from "node:assert/strict";
 *
 * const text = summarizeUdpPing({
 *   ok: true,
 *   metrics: { sent: 10, received: 9, lost: 1, loss_pct: 10, late: 1, rtt_p50_ms: 0.04, rtt_p99_ms: 0.2, receive_drops: 3 },
 *   facts: { peer: "127.0.0.1:7", io: "libc", clock: "kernel-rx" },
 * });
 * assert.equal(
 *   text.split("\n")[0],
 *   "10 pings to 127.0.0.1:7: 9 received, 10.0% lost (1 late); io libc, clock kernel-rx",
 * );
 * assert.equal(
 *   text.split("\n").at(-1),
 *   "3 datagrams dropped by this host's receive buffer: 1 of the 1 lost may be this host's, not the network's",
 * );
 * ```
 */
export function summarizeUdpPing(outcome: Outcome): string {
  const m = outcome.metrics;
  const lines: string[] = [];
  if (m.sent !== undefined) {
    const loss = m.loss_pct === undefined ? "" : `, ${m.loss_pct.toFixed(1)}% lost`;
    // Which I/O path and clock timed the run: libc's kernel timestamps and
    // the runtime's performance.now() differ by tens of microseconds.
    const how = (["io", "clock"] as const)
      .filter((name) => typeof outcome.facts[name] === "string")
      .map((name) => `${name} ${outcome.facts[name]}`);
    lines.push(
      `${m.sent} pings to ${outcome.facts.peer}: ${m.received} received${loss} (${
        m.late ?? 0
      } late)${how.length ? `; ${how.join(", ")}` : ""}`,
    );
  }
  if (m.rtt_p50_ms !== undefined) {
    const jitter = m.jitter_ms === undefined ? "" : `, jitter ${ms(m.jitter_ms)}`;
    lines.push(`rtt p50 ${ms(m.rtt_p50_ms)} p99 ${ms(m.rtt_p99_ms)}${jitter}`);
  }
  const odd = (["duplicates", "reordered", "foreign", "malformed"] as const)
    .filter((name) => (m[name] ?? 0) > 0)
    .map((name) => `${m[name]} ${name}`);
  // The third line: why the run stopped early, else anything odd that was seen.
  if (!outcome.ok && outcome.error) lines.push(outcome.error.message);
  else if (odd.length) lines.push(odd.join(", "));
  // Own drops are not network loss: say so, however the run ended.
  const drops = m.receive_drops ?? 0;
  if (drops > 0) {
    const lost = m.lost ?? 0;
    lines.push(
      `${drops} datagrams dropped by this host's receive buffer: ${
        Math.min(drops, lost)
      } of the ${lost} lost may be this host's, not the network's`,
    );
  }
  return lines.join("\n");
}

// Below 0.1 ms (loopback, a datacenter hop, timed by the kernel on libc) a tenth of a microsecond
// still matters: 3 decimals would round 3.03 µs to 0.003 ms.
function ms(value: number): string {
  return `${value.toFixed(value < 0.1 ? 4 : value < 10 ? 3 : 1)} ms`;
}

/**
 * The udp-ping plugin: `server` echoes datagrams, `client` pings a target.
 *
 * @example Running the client role through the plugin
 * ```ts
 * import udpPing from "@wiretest/wiretest/plugins/udp-ping";
 * import { runClient, startServer } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const server = await startServer(udpPing, {});
 * const { port } = server.address as Deno.NetAddr;
 * const outcome = await runClient(udpPing, { target: `127.0.0.1:${port}`, count: 2, intervalMs: 5 });
 * await server.close();
 * assert.equal(outcome.metrics.sent, 2);
 * ```
 */
const udpPing: Plugin<
  UdpPingServerParams,
  UdpPingClientParams,
  UdpPingServerOptions,
  UdpPingClientOptions
> = definePlugin({
  name: "udp-ping",
  version: "0.1.0",
  description: "UDP echo server, and a client measuring loss, reordering, RTT and jitter.",
  server: {
    params: udpPingServerParams,
    serve: serveUdpPing,
    stats: udpPingStats,
  },
  client: {
    params: udpPingClientParams,
    run: pingUdp,
    session: openUdpPingSession,
    iteration: UDP_PING_LOAD_ITERATION,
    loadIgnores: ["count", "intervalMs", "warmUp"],
    positionals: ["target"],
    summary: summarizeUdpPing,
    outcome: udpPingOutcome,
  },
});
export default udpPing;

/**
 * Starts the udp-ping server with validated options.
 *
 * @param options Where to bind (default `127.0.0.1`, a free port).
 * @param run Signal, log and progress sinks.
 * @returns The running service; close it when done.
 * @throws {TypeError} When the options are invalid (a `ParamsError`).
 *
 * @example Starting and stopping
 * ```ts
 * import { startUdpPingServer } from "@wiretest/wiretest/plugins/udp-ping";
 * import assert from "node:assert/strict";
 *
 * const server = await startUdpPingServer({ host: "127.0.0.1" });
 * assert.equal(server.address.transport, "udp");
 * assert.equal(server.stats().datagrams_in, 0);
 * await server.close();
 * ```
 */
export function startUdpPingServer(
  options: UdpPingServerOptions = {},
  run: Omit<RunOptions, "timeout" | "deadline"> = {},
): Promise<Service> {
  return startServer(udpPing, options, run);
}

/**
 * Runs the udp-ping client with validated options. Invalid options (e.g. a
 * `size` beyond 65,507 bytes) throw before anything is sent; a failed
 * exchange comes back as `ok: false`.
 *
 * @param options Target and what to send (see {@linkcode UdpPingClientOptions}).
 * @param run Timeout, deadline, signal, log and progress sinks.
 * @returns What the client observed.
 * @throws {TypeError} When the options are invalid (a `ParamsError`).
 *
 * @example An oversized ping is refused up front
 * ```ts
 * import { runUdpPingClient } from "@wiretest/wiretest/plugins/udp-ping";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   runUdpPingClient({ target: "127.0.0.1:7", size: 70_000 }),
 *   /"size"/,
 * );
 * ```
 */
export function runUdpPingClient(
  options: UdpPingClientOptions,
  run: RunOptions = {},
): Promise<Outcome> {
  return runClient(udpPing, options, run);
}
