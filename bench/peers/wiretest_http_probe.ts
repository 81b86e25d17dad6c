// wiretest's http-probe client role, run through the plugin runner exactly
// as `wiretest probe` runs it: <warmup> requests on one keep-alive
// connection first (not measured), then <count> on a new one. Prints the
// per-request latency percentiles (ms), the keep-alive rate and the first
// request's phases as a JSON line.
//
//   deno run -A bench/peers/wiretest_http_probe.ts <url> <count> <warmup> [caFile]
import httpProbe from "../../plugins/http_probe/mod.ts";
import { runClient } from "../../lib/plugin/run.ts";

const [url, count, warmup, caFile] = Deno.args;
const probe = (repeat: string) =>
  runClient(httpProbe, { url, repeat: Number(repeat), timeoutMs: 600_000, caFile });
const warm = await probe(warmup);
if (!warm.ok) throw new Error(`warm-up failed: ${warm.error?.message}`);
const outcome = await probe(count);
if (!outcome.ok) throw new Error(`probe failed: ${outcome.error?.message}`);
const m = outcome.metrics;
console.log(JSON.stringify({
  requests: m.requests,
  connections: m.connections,
  p50_ms: m.latency_p50_ms,
  p99_ms: m.latency_p99_ms,
  rps: m.requests_per_s,
  first: {
    connect_ms: m.connect_ms,
    tls_ms: m.tls_ms,
    ttfb_ms: m.ttfb_ms,
    transfer_ms: m.transfer_ms,
    total_ms: m.total_ms,
  },
}));
