// Node `net` echo client: writes <bytes> random bytes in <chunk>-byte writes
// (waiting for "drain" when the socket says so) while reading the echo back
// and comparing it, then prints the throughput as a JSON line. The clock
// runs from just before connecting to the last byte of the echo.
//
//   node node_echo_client.mjs <port> <bytes> <chunk>
import { randomFillSync } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import process from "node:process";

const [port, total, chunk] = process.argv.slice(2).map(Number);
const payload = Buffer.allocUnsafe(total);
for (let off = 0; off < total; off += 1 << 26) {
  randomFillSync(payload, off, Math.min(1 << 26, total - off));
}

const started = performance.now();
const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
await once(socket, "connect");
let received = 0;
let mismatches = 0;
const echoed = new Promise((resolve, reject) => {
  socket.on("data", (data) => {
    if (!data.equals(payload.subarray(received, received + data.length))) mismatches++;
    received += data.length;
    if (received >= total) resolve();
  });
  socket.on("error", reject);
  socket.on("end", () => received < total && reject(new Error(`closed after ${received} bytes`)));
});
for (let off = 0; off < total; off += chunk) {
  if (!socket.write(payload.subarray(off, Math.min(off + chunk, total)))) {
    await once(socket, "drain");
  }
}
await echoed;
const seconds = (performance.now() - started) / 1000;
socket.end();
await once(socket, "close");
console.log(JSON.stringify({
  bytes: received,
  mismatches,
  seconds,
  mib_s: received / seconds / 1048576,
}));
