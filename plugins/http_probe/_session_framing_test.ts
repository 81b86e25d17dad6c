// Session over a real loopback connection: a head reused from the last
// response (the same bytes) is framed for the method of the request it
// answers, not the one before.
import assert from "node:assert/strict";
import { listenTcp } from "../../lib/transport/mod.ts";
import { encodeRequestHead } from "./_request.ts";
import { Session } from "./_session.ts";
import { IterationWatchdog } from "./_watchdog.ts";

const encoder = new TextEncoder();

Deno.test("Session frames the same head bytes by each request's method: none after HEAD, Content-Length after GET", async () => {
  using listener = listenTcp();
  const head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const serving = (async () => {
    using peer = await listener.accept({ timeout: 5000 });
    const buf = new Uint8Array(4096);
    // HEAD, GET, HEAD: the same head each time, the body only for GET.
    for (const withBody of [false, true, false]) {
      let text = "";
      while (!text.includes("\r\n\r\n")) {
        const n = await peer.read(buf, { timeout: 5000 });
        assert.ok(n !== null);
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      await peer.write(encoder.encode(withBody ? `${head}hello` : head), { timeout: 5000 });
    }
  })();
  const url = new URL(`http://127.0.0.1:${listener.addr.port}/`);
  using watch = new IterationWatchdog(5000, { operation: "connect", address: url.host });
  const session = new Session({
    maxHeaderBytes: 65536,
    maxBodyBytes: 1 << 20,
    tls: { insecure: false, client: "native" },
  }, watch);
  const results = [];
  try {
    for (const method of ["HEAD", "GET", "HEAD"]) {
      watch.begin(new AbortController().signal, { operation: "connect", address: url.host });
      const request = { url, method, head: encodeRequestHead({ method, url, headers: [] }) };
      const exchange = await session.exchange(request, () => () => {});
      watch.end();
      results.push([method, exchange.framing.kind, exchange.body.bytes, exchange.reused]);
    }
  } finally {
    session.close();
  }
  await serving;
  assert.deepEqual(results, [
    ["HEAD", "none", 0, false],
    ["GET", "length", 5, true],
    ["HEAD", "none", 0, true],
  ]);
  assert.equal(session.connections, 1);
});
