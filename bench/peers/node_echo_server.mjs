// Node `net` echo server: pipes each connection back to itself (the
// idiomatic Node echo, with backpressure). Prints its port as a JSON line.
//
//   node node_echo_server.mjs <port>
import net from "node:net";
import process from "node:process";

const server = net.createServer((socket) => {
  socket.on("error", () => socket.destroy());
  socket.pipe(socket);
});
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ event: "listening", port: server.address().port }));
});
process.on("SIGTERM", () => process.exit(0));
