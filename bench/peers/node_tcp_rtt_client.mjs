// Node `net` ping-pong client: <warmup> unmeasured round trips, then <count>
// measured ones of <size> bytes over one connection, one outstanding at a
// time. Prints exact RTT percentiles in milliseconds as a JSON line.
//
//   node node_tcp_rtt_client.mjs <port> <count> <warmup> <size>
import net from "node:net";
import process from "node:process";

const [port, count, warmup, size] = process.argv.slice(2).map(Number);
const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
await new Promise((resolve, reject) => {
  socket.once("connect", resolve);
  socket.once("error", reject);
});
const payload = Buffer.alloc(size, 7);
const rtts = new Float64Array(count);
let pending = 0;
let wake = () => {};
socket.on("data", (data) => {
  pending -= data.length;
  if (pending <= 0) wake();
});
for (let i = 0; i < warmup + count; i++) {
  const start = performance.now();
  pending = size;
  const back = new Promise((resolve) => wake = resolve);
  socket.write(payload);
  await back;
  if (i >= warmup) rtts[i - warmup] = performance.now() - start;
}
socket.destroy();
rtts.sort();
const at = (p) => rtts[Math.min(count - 1, Math.round((p / 100) * (count - 1)))];
console.log(JSON.stringify({ p50_ms: at(50), p99_ms: at(99), count }));
