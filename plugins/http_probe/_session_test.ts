import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/mod.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { startHttpServer } from "./mod.ts";
import { Session } from "./_session.ts";
import { Watchdog } from "./_watchdog.ts";

Deno.test("Session: reading the TLS facts after the handshake is in no phase (processing starts when the connection is ready)", async () => {
  await using certs = await makeCertificates();
  const server = await startHttpServer({
    certFile: certs.certFile,
    keyFile: certs.keyFile,
    body: "ok",
  });
  try {
    const { port } = server.address as Deno.NetAddr;
    using ctx = createContext();
    using watch = new Watchdog(10_000, ctx, {
      operation: "connect",
      address: `localhost:${port}`,
    });
    const session = new Session({
      maxHeaderBytes: 16 * 1024,
      maxBodyBytes: 1024,
      tls: { insecure: false, caCerts: [certs.caCert], client: "native" },
    }, watch);
    try {
      const url = new URL(`https://localhost:${port}/`);
      const head = new TextEncoder().encode(`GET / HTTP/1.1\r\nhost: ${url.host}\r\n\r\n`);
      const exchange = await session.exchange({ url, method: "GET", head }, () => () => {});
      const ended = performance.now();
      assert.equal(exchange.head.status, 200);
      // The certificate facts were read (the connection reports them) …
      assert.ok(exchange.tls !== undefined);
      // … and the time that took is paused, not processing.
      const { dns, connect, tls, ttfb, transfer, total } = exchange.phases;
      assert.ok(Math.abs(dns + connect + tls + ttfb + transfer - total) < 1e-6);
      assert.ok(exchange.start + exchange.pausedMs + total <= ended);
      // Processing begins when the connection was ready, not at the handshake's end.
      const processingStart = exchange.start + exchange.pausedMs + dns + connect + tls;
      assert.ok(
        Math.abs(processingStart - exchange.readyAt) < 1e-6,
        `processing starts ${processingStart - exchange.readyAt} ms from ready`,
      );
    } finally {
      session.close();
    }
  } finally {
    await server.close();
  }
});
