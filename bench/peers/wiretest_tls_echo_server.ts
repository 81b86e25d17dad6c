// An echo server on wiretest's listenTls with the TLS server stack given,
// for comparing the two side by side. Prints its port on stdout.
//
//   deno run -A wiretest_tls_echo_server.ts <deno|node> <cert.pem> <key.pem>
//
// With bench/peers/deno_tls_echo_client.ts and `openssl s_time` (see
// BENCHMARKS.md, "TLS server").
import { listenTls } from "../../lib/transport/tls_listener.ts";

const [tlsServer, certFile, keyFile] = Deno.args;
if (tlsServer !== "deno" && tlsServer !== "node") {
  throw new TypeError(`Cannot start: the TLS server must be "deno" or "node", got "${tlsServer}"`);
}
const listener = listenTls({
  cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile),
  tlsServer,
});
console.log(listener.addr.port);
for await (const conn of listener) {
  (async () => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        await conn.write(buffer.subarray(0, n));
      }
    } catch {
      // The client went away: nothing to report in a benchmark peer.
    } finally {
      conn.close();
    }
  })();
}
