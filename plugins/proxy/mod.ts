/**
 * The proxy plugin: fault injection between a client and a service. Its
 * server role holds named proxies (TCP, or UDP with per-client flows), each
 * relaying to an upstream through toxics — toxiproxy's for TCP (`latency`,
 * `bandwidth`, `slow_close`, `timeout`, `reset_peer`, `slicer`,
 * `limit_data`), wiretest's for UDP (`loss`, `duplicate`, `reorder`,
 * `latency`, `corrupt`, `truncate`, `rate`) — with seeded randomness, behind
 * a toxiproxy-compatible HTTP control API. Its client role is a fixture step
 * that sets a proxy's toxics and reports its counters.
 *
 * @example Latency through a proxy, set from a step
 * ```ts
 * import { runProxyClient, startProxyServer } from "@wiretest/wiretest/plugins/proxy";
 * import { startEchoServer, runEchoClient } from "@wiretest/wiretest/plugins/echo";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const echo = await startEchoServer({ transport: "tcp" });
 * const proxy = await startProxyServer({ upstream: formatAddress(echo.address), seed: 1 });
 * const api = formatAddress(proxy.address);
 * const set = await runProxyClient({ api, toxics: [{ type: "latency", attributes: { latency: 30 } }] });
 * const outcome = await runEchoClient({ target: String(set.facts.listen), count: 2 });
 * const after = await runProxyClient({ api });
 * await proxy.close();
 * await echo.close();
 * assert.ok(outcome.metrics.rtt_p50_ms >= 30);
 * assert.equal(after.metrics.latency_delayed, 2);
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
import { runProxy } from "./client.ts";
import {
  type ProxyClientOptions,
  type ProxyClientParams,
  proxyClientParams,
  type ProxyServerOptions,
  type ProxyServerParams,
  proxyServerParams,
} from "./params.ts";
import { serveProxy } from "./server.ts";
import { proxyOutcome, proxyStats } from "./_outcome.ts";

export * from "./params.ts";
export * from "./toxics.ts";
export * from "./proxy_api_error.ts";
export * from "./proxy.ts";
export * from "./control_api.ts";
export { serveProxy } from "./server.ts";
export { runProxy } from "./client.ts";

/**
 * The proxy plugin. Server params: {@linkcode ProxyServerOptions}; client
 * params: {@linkcode ProxyClientOptions}.
 *
 * @example Through the generic runner
 * ```ts
 * import proxy from "@wiretest/wiretest/plugins/proxy";
 * import { runClient, startServer } from "@wiretest/wiretest/plugin";
 * import { formatAddress } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const service = await startServer(proxy, { upstream: "127.0.0.1:9", name: "db" });
 * const outcome = await runClient(proxy, { api: formatAddress(service.address), proxy: "db" });
 * await service.close();
 * assert.equal(outcome.facts.upstream, "127.0.0.1:9");
 * assert.match(proxy.client!.summary!(outcome), /^proxy "db" 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:9/);
 * ```
 */
const proxy: Plugin<ProxyServerParams, ProxyClientParams, ProxyServerOptions, ProxyClientOptions> =
  definePlugin({
    name: "proxy",
    version: "0.1.0",
    description:
      "Fault injection: a TCP and UDP proxy with toxics (latency, bandwidth, resets, loss, " +
      "reordering…) behind a toxiproxy-compatible control API, and a step that sets them.",
    server: { params: proxyServerParams, serve: serveProxy, stats: proxyStats },
    client: {
      params: proxyClientParams,
      run: runProxy,
      positionals: ["api"],
      summary: summarize,
      outcome: proxyOutcome,
    },
  });
export default proxy;

/**
 * Starts proxies and their control API.
 *
 * @param options Server params (all optional).
 * @param run Signal, log and progress sinks.
 * @returns The service; its address is the control API's.
 * @throws {TypeError} When the params or a declared toxic are invalid.
 *
 * @example An empty control API
 * ```ts
 * import { startProxyServer } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const service = await startProxyServer({});
 * assert.equal(service.stats().proxies, 0);
 * await service.close();
 * ```
 */
export function startProxyServer(
  options: ProxyServerOptions,
  run?: Omit<RunOptions, "timeout" | "deadline">,
): Promise<Service> {
  return startServer(proxy, options, run);
}

/**
 * Runs the proxy client role: sets toxics, reads counters.
 *
 * @param options Client params; `api` is required.
 * @param run Timeout, deadline, signal, log and progress sinks.
 * @returns The outcome.
 * @throws {TypeError} When the params are invalid.
 *
 * @example A control API that is not there
 * ```ts
 * import { runProxyClient } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const outcome = await runProxyClient({ api: "127.0.0.1:9", timeoutMs: 2000 });
 * assert.equal(outcome.ok, false);
 * ```
 */
export function runProxyClient(options: ProxyClientOptions, run?: RunOptions): Promise<Outcome> {
  return runClient(proxy, options, run);
}

/**
 * One line about a client outcome.
 *
 * @param outcome What {@linkcode runProxyClient} returned.
 * @returns E.g. `proxy "web" 127.0.0.1:40123 -> 127.0.0.1:8080: latency_downstream; 12 connections`.
 *
 * @example A proxy with no toxic
 * ```ts
 * import { summarize } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   summarize({ ok: true, metrics: { connections: 2 }, facts: { name: "db", listen: "127.0.0.1:1", upstream: "127.0.0.1:2", toxics: [] } }),
 *   'proxy "db" 127.0.0.1:1 -> 127.0.0.1:2: no toxics; 2 connections',
 * );
 * ```
 */
export function summarize(outcome: Outcome): string {
  const f = outcome.facts;
  if (!outcome.ok) return `proxy: ${outcome.error?.message ?? "failed"}`;
  const toxics = (f.toxics as string[] | undefined) ?? [];
  const traffic = outcome.metrics.connections !== undefined
    ? `${outcome.metrics.connections} connections`
    : `${outcome.metrics.flows ?? 0} flows`;
  return `proxy "${f.name}" ${f.listen} -> ${f.upstream}: ${
    toxics.length === 0 ? "no toxics" : toxics.join(", ")
  }; ${traffic}${f.enabled === false ? " (down)" : ""}`;
}
