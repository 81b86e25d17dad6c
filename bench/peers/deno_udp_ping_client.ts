// The least a Deno program can do as a UDP ping client: send, await the
// reply, one outstanding, <warmup> unmeasured then <count> measured round
// trips of <size> bytes. Prints exact RTT percentiles (ms) as a JSON line,
// computed as the Node client computes them. No loss handling: one ping
// outstanding on loopback loses nothing, and the bench bounds its run time.
//
//   deno run -A --unstable-net bench/peers/deno_udp_ping_client.ts <port> <count> <warmup> <size>
const [port, count, warmup, size] = Deno.args.map(Number);
const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const to: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port };
const payload = crypto.getRandomValues(new Uint8Array(size));
const buffer = new Uint8Array(65_536);
const rtts = new Float64Array(count);
for (let i = 0; i < warmup + count; i++) {
  const started = performance.now();
  await socket.send(payload, to);
  await socket.receive(buffer);
  if (i >= warmup) rtts[i - warmup] = performance.now() - started;
}
socket.close();
rtts.sort();
const pct = (p: number) => rtts[Math.min(count - 1, Math.round((p / 100) * (count - 1)))];
console.log(JSON.stringify({ received: count, lost: 0, p50_ms: pct(50), p99_ms: pct(99) }));
