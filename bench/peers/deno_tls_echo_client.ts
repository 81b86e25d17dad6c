// Sends 128 MiB through one TLS connection (Deno's client) to an echo
// server and reads it back, writing and reading at once; prints MiB/s.
//
//   deno run -A deno_tls_echo_client.ts <port> <ca.pem>
//
// The certificate must name 127.0.0.1.
const [port, caFile] = Deno.args;
const conn = await Deno.connectTls({
  hostname: "127.0.0.1",
  port: Number(port),
  caCerts: [Deno.readTextFileSync(caFile)],
});
const total = 128 << 20;
const chunk = new Uint8Array(64 << 10).fill(7);
const start = performance.now();
const writing = (async () => {
  for (let sent = 0; sent < total; sent += chunk.length) await conn.write(chunk);
})();
const buffer = new Uint8Array(256 << 10);
let received = 0;
while (received < total) {
  const n = await conn.read(buffer);
  if (n === null) throw new Error(`Cannot measure: the server closed after ${received} bytes`);
  for (let i = 0; i < n; i++) {
    if (buffer[i] !== 7) {
      throw new Error(`Cannot measure: byte ${received + i} is ${buffer[i]}, not 7`);
    }
  }
  received += n;
}
await writing;
const seconds = (performance.now() - start) / 1000;
conn.close();
console.log(JSON.stringify({ mibPerSecond: Number((total / (1 << 20) / seconds).toFixed(1)) }));
