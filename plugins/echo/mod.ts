/**
 * The echo plugin: an echo server (TCP, TLS, Unix, UDP) that writes back
 * every byte it receives, and a client that sends a payload over many
 * connections, verifies every echoed byte and measures round trip times and
 * throughput.
 *
 * @example A server and a client on loopback
 * ```ts
 * import { runEchoClient, startEchoServer } from "@wiretest/wiretest/plugins/echo";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const server = await startEchoServer({ transport: "tcp" });
 * const outcome = await runEchoClient({
 *   target: formatAddress(server.address),
 *   payloadSize: 4096,
 *   count: 5,
 *   connections: 4,
 * });
 * await server.close();
 * assert.equal(outcome.ok, true);
 * assert.equal(outcome.metrics.bytes_received, 4096 * 5 * 4);
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
import { runEcho } from "./client.ts";
import { openEchoSession } from "./session.ts";
import {
  type EchoClientOptions,
  type EchoClientParams,
  echoClientParams,
  type EchoServerOptions,
  type EchoServerParams,
  echoServerParams,
} from "./params.ts";
import { serveEcho } from "./server.ts";
import { echoOutcome, echoStats } from "./_outcome.ts";

export * from "./params.ts";
export { runEcho } from "./client.ts";
export { openEchoSession } from "./session.ts";
export { serveEcho } from "./server.ts";

/**
 * The echo plugin. Server params: {@linkcode EchoServerOptions}; client
 * params: {@linkcode EchoClientOptions}.
 *
 * @example Running the plugin through the generic runner
 * ```ts
 * import echo from "@wiretest/wiretest/plugins/echo";
 * import { runClient, startServer } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const server = await startServer(echo, { transport: "tcp" });
 * const outcome = await runClient(echo, { target: formatAddress(server.address), count: 3 });
 * await server.close();
 * assert.equal(outcome.metrics.round_trips, 3);
 * assert.match(echo.client!.summary!(outcome), /^3 round trips over 1 connection: 0 mismatches/);
 * ```
 */
const echo: Plugin<
  EchoServerParams,
  EchoClientParams,
  EchoServerOptions,
  EchoClientOptions
> = definePlugin({
  name: "echo",
  version: "0.1.0",
  description:
    "Echo over TCP, TLS, Unix sockets or UDP: a server that writes back what it reads, " +
    "and a client that verifies every byte and measures round trips and throughput.",
  server: {
    params: echoServerParams,
    serve: serveEcho,
    stats: echoStats,
  },
  client: {
    params: echoClientParams,
    run: runEcho,
    session: openEchoSession,
    iteration: "One round trip of the payload over the VU's connection (UDP: its socket), " +
      "verified byte for byte and bounded by `timeoutMs`; the connection is opened again after " +
      "a failed one.",
    loadIgnores: ["count", "connections", "durationMs"],
    positionals: ["target"],
    summary: summarize,
    outcome: echoOutcome,
  },
});
export default echo;

/**
 * Starts an echo server.
 *
 * @param options Server params (all optional: TCP on a free loopback port).
 * @param run Signal (closing the server when it aborts), log and progress sinks.
 * @returns The running service; `close()` it when done.
 * @throws {TypeError} When the params are invalid (e.g. TLS without `cert`).
 *
 * @example A Unix socket echo server in a temporary directory
 * ```ts
 * import { startEchoServer } from "@wiretest/wiretest/plugins/echo";
 * import assert from "node:assert/strict";
 *
 * const server = await startEchoServer({ transport: "unix" });
 * assert.equal(server.address.transport, "unix");
 * await server.close();
 * ```
 */
export function startEchoServer(
  options: EchoServerOptions,
  run?: Omit<RunOptions, "timeout" | "deadline">,
): Promise<Service> {
  return startServer(echo, options, run);
}

/**
 * Runs the echo client.
 *
 * @param options Client params; `target` is required.
 * @param run Timeout, deadline, signal, log and progress sinks.
 * @returns The outcome: `ok: false` with `error` and partial metrics when the exchange failed.
 * @throws {TypeError} When the params are invalid.
 *
 * @example A refused connection is an outcome, not an exception
 * ```ts
 * import { runEchoClient } from "@wiretest/wiretest/plugins/echo";
 * import { listenTcp } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const listener = listenTcp();
 * const port = listener.addr.port;
 * listener.close();
 * const outcome = await runEchoClient({ target: `127.0.0.1:${port}` });
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.error?.code, "refused");
 * ```
 */
export function runEchoClient(options: EchoClientOptions, run?: RunOptions): Promise<Outcome> {
  return runClient(echo, options, run);
}

/**
 * One to three lines about a client outcome, for people.
 *
 * @param outcome What {@linkcode runEchoClient} returned.
 * @returns E.g. `1000 round trips over 8 connections: 0 mismatches, rtt p50 0.04 ms p99 0.21 ms, 412.3 MiB/s`.
 *
 * @example Summarising an outcome
 * ```ts
 * import { summarize } from "@wiretest/wiretest/plugins/echo";
 * import assert from "node:assert/strict";
 *
 * const line = summarize({
 *   ok: true,
 *   metrics: { round_trips: 2, connections: 1, mismatches: 0, rtt_p50_ms: 0.05, rtt_p99_ms: 0.2, throughput_mib_s: 1.25 },
 *   facts: {},
 * });
 * assert.equal(line, "2 round trips over 1 connection: 0 mismatches, rtt p50 0.05 ms p99 0.20 ms, 1.3 MiB/s");
 * ```
 */
export function summarize(outcome: Outcome): string {
  const m = outcome.metrics;
  let line = `${count(m.round_trips, "round trip", "round trips")} over ${
    count(m.connections, "connection", "connections")
  }: ${count(m.mismatches, "mismatch", "mismatches")}`;
  if (m.rtt_p50_ms !== undefined) {
    line += `, rtt p50 ${ms(m.rtt_p50_ms)} p99 ${ms(m.rtt_p99_ms)}`;
  }
  if (m.throughput_mib_s !== undefined) line += `, ${m.throughput_mib_s.toFixed(1)} MiB/s`;
  return line;
}

function count(n: number | undefined, one: string, many: string): string {
  return `${n ?? 0} ${n === 1 ? one : many}`;
}

function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}
