// Node `dgram` UDP ping client: <warmup> unmeasured round trips, then
// <count> measured ones of <size> bytes, one outstanding at a time (the next
// leaves when the reply arrives; a lost reply times out after 1 s). Prints
// exact RTT percentiles in milliseconds as a JSON line.
//
//   node node_udp_ping_client.mjs <port> <count> <warmup> <size>
import { randomFillSync } from "node:crypto";
import dgram from "node:dgram";
import process from "node:process";

const [port, count, warmup, size] = process.argv.slice(2).map(Number);
const socket = dgram.createSocket("udp4");
await new Promise((resolve) => socket.bind(0, "127.0.0.1", resolve));
socket.connect(port, "127.0.0.1");
await new Promise((resolve) => socket.once("connect", resolve));

const payload = randomFillSync(Buffer.alloc(size));
const rtts = new Float64Array(count);
let seq = 0;
let sentAt = 0;
let onReply = null;
socket.on("message", (message) => {
  const now = performance.now();
  // The first four bytes carry the sequence number: a late reply is not ours.
  if (message.readUInt32BE(0) === seq && onReply) onReply(now - sentAt);
});

function ping() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onReply = null;
      resolve(NaN);
    }, 1000);
    onReply = (rtt) => {
      clearTimeout(timer);
      onReply = null;
      resolve(rtt);
    };
    payload.writeUInt32BE(seq, 0);
    sentAt = performance.now();
    socket.send(payload);
  });
}

for (let i = 0; i < warmup; i++, seq++) await ping();
let lost = 0;
for (let i = 0; i < count; i++, seq++) {
  const rtt = await ping();
  if (Number.isNaN(rtt)) lost++;
  rtts[i] = rtt;
}
socket.close();
const got = rtts.filter((r) => !Number.isNaN(r)).sort();
const pct = (p) => got[Math.min(got.length - 1, Math.round((p / 100) * (got.length - 1)))];
console.log(JSON.stringify({ received: got.length, lost, p50_ms: pct(50), p99_ms: pct(99) }));
