/**
 * The DNS client role: `count` queries over UDP, one after the other, each
 * matched to its response by identifier, with round-trip percentiles and
 * the answers as facts.
 *
 * @module
 */
import { type Context, describeError, type Outcome } from "@wiretest/wiretest/plugin";
import { parseHostPort, TimeoutError } from "@wiretest/wiretest/transport";
import { bindUdp } from "@wiretest/wiretest/unstable-udp";
import { LatencyHistogram, summaryMetrics } from "@wiretest/wiretest/metrics";
import { decodeMessage, type DnsMessage, DnsProtocolError, encodeQuery } from "./dns_message.ts";
import type { DnsClientParams } from "./params.ts";

/**
 * Runs the client role. Each query gets a random identifier; a datagram from
 * another port or with another identifier (a late answer to an earlier
 * query) is counted as `foreign` and the wait goes on. A query without a
 * response within `timeoutMs` counts in `timeouts`.
 *
 * Metrics: `queries`, `responses`, `timeouts`, `foreign`, `answers` (records
 * in the last response), `response_bytes` (its size) and `rtt_*_ms`.
 * Facts: `server`, `rcode` (`NOERROR`, `NXDOMAIN`, `REFUSED`…),
 * `answers` (`[{ name, type, class, ttl, data }]`), `authoritative`,
 * `truncated`, `recursion_available` — all from the last response.
 *
 * `ok` is `true` when every query got a well-formed response, whatever its
 * rcode: a fixture says which rcode it wants (`facts.rcode: NOERROR`). A
 * malformed response, or timeouts, make it `false` with the error.
 *
 * @param params Validated client params.
 * @param ctx The run context: its signal and deadline bound every operation.
 * @returns What the client observed.
 */
export async function runDns(params: DnsClientParams, ctx: Context): Promise<Outcome> {
  const server = parseHostPort(params.target);
  const metrics = { queries: 0, responses: 0, timeouts: 0, foreign: 0 };
  const facts: Record<string, unknown> = { server: params.target };
  const rtt = new LatencyHistogram();
  let last: DnsMessage | undefined;
  let lastSize = 0;
  let error: unknown;
  using socket = bindUdp({ hostname: localAddressFor(server.hostname) });
  try {
    for (let i = 0; i < params.count; i++) {
      const id = crypto.getRandomValues(new Uint16Array(1))[0];
      const query = encodeQuery({
        id,
        name: params.name,
        type: params.type,
        recursionDesired: params.recursionDesired,
      });
      const sentAt = performance.now();
      const io = { signal: ctx.signal, deadline: ctx.deadline };
      await socket.send(query, server, io);
      metrics.queries++;
      const until = sentAt + params.timeoutMs;
      while (true) {
        const left = until - performance.now();
        let datagram;
        try {
          datagram = await socket.receive({ ...io, timeout: Math.max(0, left) });
        } catch (err) {
          if (!(err instanceof TimeoutError)) throw err;
          metrics.timeouts++;
          error = err;
          break;
        }
        const { data, from, receivedAt } = datagram;
        // Only the server's answer to this very query counts.
        if (from.port !== server.port || data.length < 2 || ((data[0] << 8) | data[1]) !== id) {
          metrics.foreign++;
          continue;
        }
        const message = decodeMessage(data);
        if (!message.response) throw new DnsProtocolError(`the reply to query ${id} is a query`);
        rtt.record(receivedAt - sentAt);
        metrics.responses++;
        last = message;
        lastSize = data.length;
        break;
      }
      ctx.progress({ done: metrics.queries, total: params.count, unit: "queries" });
    }
  } catch (err) {
    error = err;
  }
  if (last !== undefined) {
    Object.assign(facts, {
      rcode: last.rcode,
      answers: last.answers,
      authoritative: last.authoritative,
      truncated: last.truncated,
      recursion_available: last.recursionAvailable,
    });
  }
  const outcome: Outcome = {
    ok: error === undefined,
    metrics: {
      ...metrics,
      ...(last === undefined ? {} : { answers: last.answers.length, response_bytes: lastSize }),
      ...summaryMetrics("rtt", rtt.summary()),
    },
    facts,
  };
  return error === undefined ? outcome : { ...outcome, error: describeError(error) };
}

// Bind where the server can be reached from: loopback for loopback servers,
// every interface of the right family otherwise.
function localAddressFor(hostname: string): string {
  if (hostname.includes(":")) return hostname === "::1" ? "::1" : "::";
  return hostname.startsWith("127.") || hostname === "localhost" ? "127.0.0.1" : "0.0.0.0";
}
