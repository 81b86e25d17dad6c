// Node `dgram` UDP echo server: sends every datagram back to its sender.
// Prints its port as a JSON line.
//
//   node node_udp_echo_server.mjs <port>
import dgram from "node:dgram";
import process from "node:process";

const socket = dgram.createSocket("udp4");
socket.on("message", (message, from) => socket.send(message, from.port, from.address));
socket.bind(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: socket.address().port }));
});
process.on("SIGTERM", () => process.exit(0));
