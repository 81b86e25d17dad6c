import assert from "node:assert/strict";
import { createContext } from "../../lib/plugin/mod.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { startHttpServer } from "./mod.ts";
import { listenTcp, TimeoutError } from "../../lib/transport/mod.ts";
import type { Conn } from "../../lib/transport/mod.ts";
import { within } from "../../tests/_support/command.ts";
import { type OutgoingRequest, Session } from "./_session.ts";
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

// A real server on loopback whose steps are stamped on the same clock as
// the session's (one process): the tests below compare when things happened,
// not how long they took.
interface Stamped {
  port: number;
  /** `performance.now()` at each named step of the server. */
  at: Record<string, number>;
  done: Promise<void>;
}

/**
 * Accepts one connection, reads the request head, writes `response`, then
 * runs `after` on the connection (delay its close, drain a body late…).
 */
function stampedServer(
  response: string,
  after: (conn: Conn, at: Record<string, number>, extra: number) => Promise<void>,
): Stamped & Disposable {
  const listener = listenTcp();
  const at: Record<string, number> = {};
  const done = (async () => {
    using conn = await listener.accept({ timeout: 10_000 });
    const buf = new Uint8Array(64 * 1024);
    // Request bytes as Latin-1 text: one character per byte.
    let text = "";
    while (!text.includes("\r\n\r\n")) {
      const n = await conn.read(buf, { timeout: 10_000 });
      if (n === null) throw new Error("Cannot serve: the client closed before its request head");
      text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
    await conn.write(new TextEncoder().encode(response), { timeout: 10_000 });
    at.responded = performance.now();
    await after(conn, at, text.length - (text.indexOf("\r\n\r\n") + 4));
  })();
  return {
    port: listener.addr.port,
    at,
    done,
    [Symbol.dispose]: () => listener.close(),
  };
}

function sessionFor(ctx: ReturnType<typeof createContext>, port: number, timeoutMs = 10_000) {
  const watch = new Watchdog(timeoutMs, ctx, {
    operation: "connect",
    address: `127.0.0.1:${port}`,
  });
  const session = new Session({
    maxHeaderBytes: 16 * 1024,
    maxBodyBytes: 1024,
    tls: { insecure: false, client: "native" },
  }, watch);
  return { watch, session };
}

function request(port: number, body?: Uint8Array): OutgoingRequest {
  const url = new URL(`http://127.0.0.1:${port}/`);
  const length = body ? `content-length: ${body.length}\r\n` : "";
  const method = body ? "POST" : "GET";
  const head = new TextEncoder().encode(
    `${method} / HTTP/1.1\r\nhost: ${url.host}\r\n${length}\r\n`,
  );
  return { url, method, head, body };
}

Deno.test("Session: total ends when the body ends, not when a server that delays its close closes", async () => {
  // The whole response, Connection: close, and the server holds the
  // connection open until the exchange has returned: one that waited for the
  // close never returns. (A 300 ms hold let a stalled machine's client read
  // the response after the server had closed.)
  const { promise: returnedEvent, resolve: markReturned } = Promise.withResolvers<void>();
  using server = stampedServer(
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
    async (_conn, at) => {
      await returnedEvent;
      at.closing = performance.now();
    },
  );
  using ctx = createContext();
  const { watch, session } = sessionFor(ctx, server.port);
  using _watch = watch;
  try {
    const exchange = await within(
      session.exchange(request(server.port), () => () => {}),
      10_000,
      "the exchange, the server holding its close",
    );
    const returned = performance.now();
    markReturned();
    await server.done;
    assert.equal(exchange.body.bytes, 2);
    const { dns, connect, tls, ttfb, transfer, total } = exchange.phases;
    // The phases add up to total, and none is negative.
    for (const phase of [dns, connect, tls, ttfb, transfer]) assert.ok(phase >= 0, `${phase}`);
    assert.ok(Math.abs(dns + connect + tls + ttfb + transfer - total) < 1e-6);
    // The exchange ended (and returned) before the server began to close.
    const ended = exchange.start + exchange.pausedMs + total;
    assert.ok(ended <= returned);
    assert.ok(returned < server.at.closing, "the exchange waited for the server's close");
  } finally {
    markReturned();
    session.close();
  }
});

Deno.test("Session: ttfb ends at the first response byte even while the request body is still being written", async () => {
  // A server that answers as soon as the head is in (as one refusing an
  // upload does) and reads the 32 MiB body only 2 s later: the write
  // cannot finish before then, the response came long before. (The session
  // tells no one when the head came, so a wait it is; 300 ms let a stalled
  // machine's session see the head after the server's timer fired.)
  const body = new Uint8Array(32 * 1024 * 1024);
  using server = stampedServer(
    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    async (conn, at, extra) => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      at.draining = performance.now();
      const buf = new Uint8Array(1024 * 1024);
      let got = extra;
      while (got < body.length) {
        const n = await conn.read(buf, { timeout: 10_000 });
        if (n === null) break;
        got += n;
      }
      at.drained = performance.now();
    },
  );
  using ctx = createContext();
  const { watch, session } = sessionFor(ctx, server.port);
  using _watch = watch;
  try {
    const exchange = await within(
      session.exchange(request(server.port, body), () => () => {}),
      20_000,
      "the exchange",
    );
    await server.done;
    const { dns, connect, tls, ttfb, total } = exchange.phases;
    const start = exchange.start + exchange.pausedMs;
    const firstByte = start + dns + connect + tls + ttfb;
    // ttfb ended when the answer came, before the server read the body …
    assert.ok(firstByte >= server.at.responded - 1e-6);
    assert.ok(firstByte < server.at.draining, "ttfb waited for the request body's write");
    // … and total when the body did: after the whole request was written.
    assert.ok(start + total >= server.at.draining);
  } finally {
    session.close();
  }
});

Deno.test("Session: a deadline that passes while the request is still being written is the write's timeout", async () => {
  // The server reads the head and then nothing: a 32 MiB body cannot be
  // written, and the watchdog fires during the write.
  const body = new Uint8Array(32 * 1024 * 1024);
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  // Held open, unread, until the test is over.
  using server = stampedServer("", () => released);
  using ctx = createContext();
  const { watch, session } = sessionFor(ctx, server.port, 300);
  using _watch = watch;
  try {
    const error = await within(
      session.exchange(request(server.port, body), () => () => {}).then(
        () => undefined,
        (e: unknown) => watch.explain(e),
      ),
      10_000,
      "the exchange",
    );
    assert.ok(error instanceof TimeoutError, `${error}`);
    assert.equal(error.operation, "write");
  } finally {
    session.close();
    release();
    await server.done;
  }
});

Deno.test("Session: over plain http no time is paused: setting up after the connect counts in ttfb", async () => {
  using server = stampedServer("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok", async () => {});
  using ctx = createContext();
  const { watch, session } = sessionFor(ctx, server.port);
  using _watch = watch;
  try {
    const before = session.pausedMs;
    const exchange = await within(
      session.exchange(request(server.port), () => () => {}),
      10_000,
      "the exchange",
    );
    await server.done;
    assert.equal(exchange.pausedMs, 0);
    assert.equal(session.pausedMs, before);
    // Processing starts where the connect ended.
    const { dns, connect } = exchange.phases;
    assert.ok(Math.abs(exchange.start + dns + connect - exchange.readyAt) < 1e-6);
  } finally {
    session.close();
  }
});
