/**
 * dns: a third-party wiretest plugin that queries DNS servers over UDP. It
 * shows binary packing in network byte order with wiretest's codec: the
 * header is `pack(">HHHHHH", id, flags, 1, 0, 0, 0)`, records are read with
 * `unpack` and `ByteReader`, and compressed names are followed with every
 * pointer checked.
 *
 * ```sh
 * wiretest run dns 127.0.0.1:53 --name example.com --type AAAA --plugins examples/plugins/dns/manifest.json
 * ```
 *
 * @example A query that gets no answer counts as a timeout
 * ```ts
 * import dns from "./mod.ts";
 * import { runClient } from "@wiretest/wiretest/plugin";
 * import { bindUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * using silent = bindUdp(); // receives, never answers
 * const outcome = await runClient(dns, {
 *   target: `127.0.0.1:${silent.addr.port}`,
 *   name: "example.com",
 *   count: 1,
 *   timeoutMs: 50,
 * });
 * assert.equal(outcome.ok, false);
 * assert.equal(outcome.metrics.timeouts, 1);
 * assert.equal(outcome.error?.name, "TimeoutError");
 * ```
 *
 * @module
 */
import { definePlugin, type Outcome, type Plugin } from "@wiretest/wiretest/plugin";
import { runDns } from "./client.ts";
import { dnsOutcome } from "./outcome.ts";
import { type DnsClientOptions, type DnsClientParams, dnsClientParams } from "./params.ts";

export * from "./dns_message.ts";
export * from "./params.ts";
export { runDns } from "./client.ts";

/**
 * One or two lines for people about an outcome of the client role.
 *
 * @param outcome What {@linkcode runDns} returned.
 * @returns E.g. `10 queries to 127.0.0.1:53: 10 NOERROR responses, 1 answer (A 10.1.2.3), rtt p50 0.12 ms p99 0.40 ms`.
 *
 * @example Summarising an outcome
 * ```ts
 * import { summarizeDns } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const line = summarizeDns({
 *   ok: true,
 *   metrics: { queries: 2, responses: 2, timeouts: 0, answers: 1, rtt_p50_ms: 0.1, rtt_p99_ms: 0.3 },
 *   facts: { server: "127.0.0.1:53", rcode: "NOERROR", answers: [{ type: "A", data: "10.1.2.3" }] },
 * });
 * assert.equal(
 *   line,
 *   "2 queries to 127.0.0.1:53: 2 NOERROR responses, 1 answer (A 10.1.2.3), rtt p50 0.10 ms p99 0.30 ms",
 * );
 * ```
 */
export function summarizeDns(outcome: Outcome): string {
  const m = outcome.metrics;
  const f = outcome.facts;
  let line = `${m.queries ?? 0} queries to ${f.server}: ${m.responses ?? 0}` +
    `${f.rcode === undefined ? "" : ` ${f.rcode}`} responses`;
  const answers = (f.answers ?? []) as { type: string; data: string }[];
  if (m.answers !== undefined) {
    const shown = answers.slice(0, 3).map((a) => `${a.type} ${a.data}`).join(", ");
    line += `, ${m.answers} ${m.answers === 1 ? "answer" : "answers"}${shown ? ` (${shown})` : ""}`;
  }
  if (m.timeouts) line += `, ${m.timeouts} timed out`;
  if (m.rtt_p50_ms !== undefined) {
    line += `, rtt p50 ${m.rtt_p50_ms.toFixed(2)} ms p99 ${m.rtt_p99_ms.toFixed(2)} ms`;
  }
  return outcome.error ? `${line}\n${outcome.error.message}` : line;
}

/**
 * The dns plugin: a client role that queries any DNS server over UDP.
 *
 * @example Its roles
 * ```ts
 * import dns from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(dns.name, "dns");
 * assert.equal(dns.server, undefined);
 * ```
 */
const dns: Plugin<never, DnsClientParams, never, DnsClientOptions> = definePlugin({
  name: "dns",
  version: "0.1.0",
  description: "DNS over UDP: queries a server, reports rcode, answers and round-trip percentiles.",
  client: {
    params: dnsClientParams,
    run: runDns,
    positionals: ["target"],
    summary: summarizeDns,
    outcome: dnsOutcome,
  },
});
export default dns;
