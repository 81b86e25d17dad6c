// The least a Deno program can do as a UDP echo server (Deno.listenDatagram,
// receive, send back), to show the runtime's floor beside wiretest's server.
// Prints its port as a JSON line.
//
//   deno run -A --unstable-net bench/peers/deno_udp_echo_server.ts <port>
const socket = Deno.listenDatagram({
  transport: "udp",
  hostname: "127.0.0.1",
  port: Number(Deno.args[0] ?? 0),
});
console.log(JSON.stringify({ event: "listening", port: (socket.addr as Deno.NetAddr).port }));
const buffer = new Uint8Array(65_536);
while (true) {
  const [data, from] = await socket.receive(buffer);
  await socket.send(data, from);
}
