/**
 * The http-probe plugin: an HTTP/1.1 client over wiretest's own TCP and TLS
 * transports that reports status, headers, a body hash, per-phase timings
 * (DNS, connect, TLS, time to first byte, transfer), redirect hops and
 * certificate facts; and a small configurable HTTP/HTTPS responder to probe.
 *
 * @example A responder and a probe on loopback
 * ```ts
 * import { runHttpProbe, startHttpServer } from "@wiretest/wiretest/plugins/http-probe";
 * import assert from "node:assert/strict";
 *
 * const server = await startHttpServer({ status: 201, body: "made" });
 * const { port } = server.address as Deno.NetAddr;
 * const outcome = await runHttpProbe({ url: `http://127.0.0.1:${port}/things`, method: "POST" });
 * await server.close();
 * assert.equal(outcome.ok, true);
 * assert.equal(outcome.metrics.status, 201);
 * assert.equal(outcome.facts.body_text, "made");
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
import { HTTP_LOAD_ITERATION, openHttpLoadSession, probeHttp } from "./client.ts";
import {
  type HttpProbeClientOptions,
  type HttpProbeClientParams,
  httpProbeClientParams,
  type HttpServerOptions,
  type HttpServerParams,
  httpServerParams,
} from "./params.ts";
import { HTTP_PROBE_VERSION } from "./_request.ts";
import { serveHttp } from "./server.ts";
import { httpProbeOutcome, httpServerStats } from "./_outcome.ts";

export * from "./params.ts";
export * from "./errors.ts";
export { probeHttp, type RedirectHop } from "./client.ts";
export { serveHttp } from "./server.ts";

/**
 * The http-probe plugin. Server params: {@linkcode HttpServerOptions};
 * client params: {@linkcode HttpProbeClientOptions}, with the URL as the
 * positional argument (`wiretest http-probe http://127.0.0.1:8080/`).
 *
 * @example Running the plugin through the generic runner
 * ```ts
 * import httpProbe from "@wiretest/wiretest/plugins/http-probe";
 * import { runClient, startServer } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const server = await startServer(httpProbe, { body: "ok" });
 * const { port } = server.address as Deno.NetAddr;
 * const outcome = await runClient(httpProbe, { url: `http://127.0.0.1:${port}/`, repeat: 3 });
 * await server.close();
 * assert.equal(outcome.metrics.requests, 3);
 * assert.match(httpProbe.client!.summary!(outcome), /^GET http:\/\/127\.0\.0\.1:\d+\/ 200 OK/);
 * ```
 */
const httpProbe: Plugin<
  HttpServerParams,
  HttpProbeClientParams,
  HttpServerOptions,
  HttpProbeClientOptions
> = definePlugin({
  name: "http-probe",
  version: HTTP_PROBE_VERSION,
  description: "HTTP and HTTPS probe: the server answers test requests; the client reports " +
    "status, headers, timings and certificate facts.",
  server: {
    params: httpServerParams,
    serve: serveHttp,
    stats: httpServerStats,
  },
  client: {
    params: httpProbeClientParams,
    run: probeHttp,
    session: openHttpLoadSession,
    iteration: HTTP_LOAD_ITERATION,
    loadIgnores: ["repeat"],
    positionals: ["url"],
    summary: summarize,
    outcome: httpProbeOutcome,
  },
});
export default httpProbe;

/**
 * Starts the HTTP responder.
 *
 * @param options Server params (all optional: HTTP on a free loopback port, `200 ok`).
 * @param run Signal (closing the server when it aborts), log and progress sinks.
 * @returns The running service; `close()` it when done.
 * @throws {TypeError} When the params are invalid (e.g. `certFile` without `keyFile`).
 *
 * @example A responder that is slow on purpose
 * ```ts
 * import { runHttpProbe, startHttpServer } from "@wiretest/wiretest/plugins/http-probe";
 * import assert from "node:assert/strict";
 *
 * const server = await startHttpServer({ delayMs: 50 });
 * const { port } = server.address as Deno.NetAddr;
 * const outcome = await runHttpProbe({ url: `http://127.0.0.1:${port}/`, timeoutMs: 10 });
 * await server.close();
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.error?.name, "TimeoutError");
 * ```
 */
export function startHttpServer(
  options: HttpServerOptions = {},
  run?: Omit<RunOptions, "timeout" | "deadline">,
): Promise<Service> {
  return startServer(httpProbe, options, run);
}

/**
 * Runs the HTTP probe.
 *
 * @param options Client params; `url` is required.
 * @param run Timeout, deadline, signal, log and progress sinks.
 * @returns The outcome: `ok: false` with `error` and what was measured so far when the exchange failed.
 * @throws {TypeError} When the params are invalid.
 *
 * @example A refused connection is an outcome, not an exception
 * ```ts
 * import { runHttpProbe } from "@wiretest/wiretest/plugins/http-probe";
 * import { listenTcp } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const listener = listenTcp();
 * const port = listener.addr.port;
 * listener.close();
 * const outcome = await runHttpProbe({ url: `http://127.0.0.1:${port}/` });
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.error?.code, "refused");
 * ```
 */
export function runHttpProbe(options: HttpProbeClientOptions, run?: RunOptions): Promise<Outcome> {
  return runClient(httpProbe, options, run);
}

function summarize(outcome: Outcome): string {
  const m = outcome.metrics, f = outcome.facts;
  const lines: string[] = [];
  if (typeof f.status === "number") {
    const redirects = m.redirects
      ? `, ${m.redirects} redirect${m.redirects === 1 ? "" : "s"}${droppedText(f.redirects)}`
      : "";
    lines.push(
      `${f.method} ${f.url} ${f.status} ${f.reason}${redirects}: ${formatBytes(m.body_bytes)}` +
        (m.encoded_body_bytes !== undefined && m.encoded_body_bytes !== m.body_bytes
          ? ` (${formatBytes(m.encoded_body_bytes)} encoded)`
          : "") +
        " in " +
        `${ms(m.total_ms)} ms (dns ${ms(m.dns_ms)}, connect ${ms(m.connect_ms)}, ` +
        `tls ${ms(m.tls_ms)}, ttfb ${ms(m.ttfb_ms)}, transfer ${ms(m.transfer_ms)} ms)`,
    );
  }
  if (m.latency_p50_ms !== undefined) {
    // A run that failed part-way has latencies but no rate.
    const rate = m.requests_per_s === undefined ? "" : `, ${m.requests_per_s.toFixed(1)} req/s`;
    lines.push(
      `${m.requests} requests on ${m.connections} connection${m.connections === 1 ? "" : "s"}: ` +
        `latency p50 ${ms(m.latency_p50_ms)} ms p99 ${ms(m.latency_p99_ms)} ms${rate}`,
    );
  }
  const tls = f.tls as
    | { protocol: string; authorized: boolean; authorization_error?: string }
    | undefined;
  if (tls && lines.length < 3) {
    const cert = (f.tls as { certificate?: { subject: string; days_left: number } }).certificate;
    const trust = tls.authorized ? "verified" : `NOT verified: ${tls.authorization_error}`;
    lines.push(
      `${tls.protocol}, certificate ${cert?.subject ?? "(none)"}` +
        (cert ? ` (${cert.days_left} days left)` : "") + `, ${trust}`,
    );
  }
  if (!outcome.ok && outcome.error) lines.push(`failed: ${outcome.error.message}`);
  return lines.slice(0, 3).join("\n");
}

// Credentials kept from another origin are said in the summary, not only in a fact.
function droppedText(hops: unknown): string {
  if (!Array.isArray(hops)) return "";
  const names = new Set<string>();
  for (const hop of hops) {
    for (const name of (hop as { dropped_headers?: string[] }).dropped_headers ?? []) {
      names.add(name);
    }
  }
  return names.size === 0 ? "" : ` (not sent to another origin: ${[...names].join(", ")})`;
}

function ms(value: number | undefined): string {
  return value === undefined ? "-" : value.toFixed(2);
}

function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return "- B";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
