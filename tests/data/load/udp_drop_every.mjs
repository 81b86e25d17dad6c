// The Node.js twin of udp_drop_every.py, for rates the single-threaded Python
// loop cannot keep up with on a loaded machine: a UDP echo peer that drops
// every Nth datagram it receives (the Nth, 2Nth…) and echoes the rest. On
// SIGTERM, or after its time limit (default 120 s), prints
// "received R dropped D echoed E" and exits.
// Usage: node udp_drop_every.mjs PORT N [LIMIT_SECONDS]
import dgram from "node:dgram";

const port = Number(process.argv[2]);
const every = Number(process.argv[3]);
const limit = Math.max(1, Math.trunc(Number(process.argv[4] ?? 120)));
let received = 0, dropped = 0, echoed = 0;
const socket = dgram.createSocket({
  type: "udp4",
  recvBufferSize: 8 * 1024 * 1024,
  sendBufferSize: 8 * 1024 * 1024,
});
socket.on("message", (msg, rinfo) => {
  received++;
  if (received % every === 0) {
    dropped++;
    return;
  }
  socket.send(msg, rinfo.port, rinfo.address);
  echoed++;
});
const stop = () => {
  process.stdout.write(`received ${received} dropped ${dropped} echoed ${echoed}\n`, () => process.exit(0));
};
process.on("SIGTERM", stop);
setTimeout(stop, limit * 1000).unref();
socket.bind(port, "127.0.0.1", () => process.stdout.write("ready\n"));
