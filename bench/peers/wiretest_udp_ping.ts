// wiretest's udp-ping client role, run through the plugin runner exactly as
// `wiretest ping` runs it: <warmup> pings first (not measured), then <count>
// pings of <size> bytes in flood mode (one outstanding), on the I/O path
// <io> (auto, deno or libc; default auto). Prints the RTT percentiles in
// milliseconds and the path and clock that measured as a JSON line.
//
//   deno run -A bench/peers/wiretest_udp_ping.ts <host:port> <count> <warmup> <size> [io]
import udpPing from "../../plugins/udp_ping/mod.ts";
import { runClient } from "../../lib/plugin/run.ts";

const [target, count, warmup, size, io = "auto"] = Deno.args;
const ping = (n: string) =>
  runClient(udpPing, {
    target,
    count: Number(n),
    intervalMs: 0,
    size: Number(size),
    io: io as "auto" | "deno" | "libc",
  });
const warm = await ping(warmup);
if (!warm.ok) throw new Error(`warm-up failed: ${warm.error?.message}`);
const outcome = await ping(count);
if (!outcome.ok) throw new Error(`ping failed: ${outcome.error?.message}`);
const m = outcome.metrics;
console.log(JSON.stringify({
  received: m.received,
  lost: m.lost,
  p50_ms: m.rtt_p50_ms,
  p99_ms: m.rtt_p99_ms,
  io: outcome.facts.io,
  clock: outcome.facts.clock,
}));
