/**
 * resp: a third-party wiretest plugin for Redis's protocol (RESP2). Its
 * client role PINGs a Redis server, then makes SET/GET round trips over one
 * or more connections, verifies every value byte for byte, and reports
 * latency percentiles.
 *
 * It is written as a package outside wiretest would be: it imports
 * `@wiretest/wiretest/…` only, and comes with its own `manifest.json`:
 *
 * ```sh
 * wiretest run resp 127.0.0.1:6379 --count 1000 --connections 8 --plugins examples/plugins/resp/manifest.json
 * ```
 *
 * @example A refused connection is an outcome, not an exception
 * ```ts
 * import resp from "./mod.ts";
 * import { runClient } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close();
 * const outcome = await runClient(resp, { target: `127.0.0.1:${port}` });
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.error?.code, "refused");
 * ```
 *
 * @module
 */
import { openRespSession, RESP_LOAD_ITERATION } from "./load_session.ts";
import { definePlugin, type Outcome, type Plugin } from "@wiretest/wiretest/plugin";
import { runResp } from "./client.ts";
import { respOutcome } from "./outcome.ts";
import { type RespClientOptions, type RespClientParams, respClientParams } from "./params.ts";

export * from "./errors.ts";
export * from "./params.ts";
export * from "./encode_command.ts";
export * from "./resp_decoder.ts";
export * from "./resp_connection.ts";
export { runResp } from "./client.ts";

/**
 * One or two lines for people about an outcome of the client role.
 *
 * @param outcome What {@linkcode runResp} returned.
 * @returns E.g. `800 SET/GET round trips over 8 connections to 127.0.0.1:6379: 0 mismatches, get p50 0.05 ms p99 0.21 ms, 21034 ops/s`.
 *
 * @example Summarising an outcome
 * ```ts
 * import { summarizeResp } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const line = summarizeResp({
 *   ok: true,
 *   metrics: { ops: 10, connections: 1, mismatches: 0, get_p50_ms: 0.05, get_p99_ms: 0.2, ops_per_s: 9000 },
 *   facts: { peer: "127.0.0.1:6379" },
 * });
 * assert.equal(
 *   line,
 *   "10 SET/GET round trips over 1 connection to 127.0.0.1:6379: 0 mismatches, get p50 0.05 ms p99 0.20 ms, 9000 ops/s",
 * );
 * ```
 */
export function summarizeResp(outcome: Outcome): string {
  const m = outcome.metrics;
  const conns = m.connections === 1 ? "1 connection" : `${m.connections ?? 0} connections`;
  const peer = outcome.facts.peer === undefined ? "" : ` to ${outcome.facts.peer}`;
  let line = `${m.ops ?? 0} SET/GET round trips over ${conns}${peer}: ${
    m.mismatches ?? 0
  } mismatches`;
  if (m.get_p50_ms !== undefined) {
    line += `, get p50 ${m.get_p50_ms.toFixed(2)} ms p99 ${m.get_p99_ms.toFixed(2)} ms`;
  }
  if (m.ops_per_s) line += `, ${Math.round(m.ops_per_s)} ops/s`;
  return outcome.error ? `${line}\n${outcome.error.message}` : line;
}

/**
 * The resp plugin: a client role only, since the server is Redis itself.
 *
 * @example Its params and roles
 * ```ts
 * import resp from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resp.name, "resp");
 * assert.equal(resp.server, undefined);
 * assert.deepEqual(resp.client?.positionals, ["target"]);
 * ```
 */
const resp: Plugin<never, RespClientParams, never, RespClientOptions> = definePlugin({
  name: "resp",
  version: "0.1.0",
  description:
    "Redis RESP client: PING, SET/GET round trips verified byte for byte, latency percentiles.",
  client: {
    params: respClientParams,
    run: runResp,
    session: openRespSession,
    iteration: RESP_LOAD_ITERATION,
    loadIgnores: ["count", "connections"],
    positionals: ["target"],
    summary: summarizeResp,
    outcome: respOutcome,
  },
});
export default resp;
