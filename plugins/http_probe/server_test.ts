import { ParamsError, validateParams } from "../../lib/plugin/params_schema.ts";
import assert from "node:assert/strict";
import { ConnectionError } from "../../lib/errors.ts";
import { createContext } from "../../lib/plugin/context.ts";
import type { Service } from "../../lib/plugin/types.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { within } from "../../tests/_support/command.ts";
import { type HttpServerOptions, httpServerParams } from "./params.ts";
import { serveHttp } from "./server.ts";

async function withServer(
  options: HttpServerOptions,
  run: (base: string, service: Service) => Promise<void>,
): Promise<void> {
  using ctx = createContext();
  const service = await serveHttp(validateParams(httpServerParams, options), ctx);
  const { hostname, port } = service.address as Deno.NetAddr;
  try {
    await run(`http://${hostname}:${port}`, service);
  } finally {
    await service.close();
  }
}

/** Sends raw bytes on a new connection and reads until the peer closes. */
async function rawExchange(base: string, request: string): Promise<string> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode(request));
    const decoder = new TextDecoder();
    const buf = new Uint8Array(65536);
    let text = "";
    for (let i = 0; i < 1000; i++) {
      const n = await within(conn.read(buf), 10_000, `the answer to ${JSON.stringify(request)}`);
      if (n === null) break;
      text += decoder.decode(buf.subarray(0, n), { stream: true });
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("serveHttp() answers with the configured status, headers and body", async () => {
  await withServer(
    { status: 418, body: "teapot", headers: ["X-Kind: pot", "X-Kind: kettle"] },
    async (base) => {
      const response = await fetch(`${base}/any/path?q=1`);
      assert.equal(response.status, 418);
      assert.equal(response.headers.get("x-kind"), "pot, kettle");
      assert.equal(await response.text(), "teapot");
    },
  );
});

Deno.test("serveHttp() listens on 127.0.0.1 on a free port by default", async () => {
  await withServer({}, async (_base, service) => {
    const address = service.address as Deno.NetAddr;
    assert.equal(address.hostname, "127.0.0.1");
    assert.ok(address.port > 0);
    await (await fetch(`http://127.0.0.1:${address.port}/`)).body?.cancel();
  });
});

Deno.test("serveHttp() repeats the body with a Content-Length when bodyRepeat is set", async () => {
  await withServer({ body: "abc", bodyRepeat: 1000 }, async (base) => {
    const text = await rawExchange(base, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(text, /\r\ncontent-length: 3000\r\n/i);
    assert.ok(text.endsWith("abc".repeat(1000)));
  });
});

Deno.test("serveHttp() streams a chunked body, one chunk per repetition", async () => {
  await withServer({ body: "xyz", bodyRepeat: 4, chunked: true }, async (base) => {
    const text = await rawExchange(base, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(text, /\r\ntransfer-encoding: chunked\r\n/i);
    assert.doesNotMatch(text, /content-length/i);
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    // Chunks may be coalesced on the wire; the decoded body is what counts.
    const decoded = body.split("\r\n").filter((_, i) => i % 2 === 1).join("");
    assert.equal(decoded, "xyz".repeat(4));
    assert.ok(body.endsWith("0\r\n\r\n"));
  });
});

Deno.test("serveHttp() sends no body for status 204", async () => {
  await withServer({ status: 204, body: "ignored" }, async (base) => {
    const response = await fetch(base);
    assert.equal(response.status, 204);
    assert.equal(await response.text(), "");
  });
});

Deno.test("serveHttp() holds a request it has read for delayMs before answering", async () => {
  await withServer({ delayMs: 60_000 }, async (base, service) => {
    let answered = false;
    const pending = fetch(base).then((r) => {
      answered = true;
      return r.text();
    });
    for (let i = 0; i < 500 && service.stats().requests === 0; i++) {
      await new Promise((ok) => setTimeout(ok, 10));
    }
    assert.equal(service.stats().requests, 1);
    // Read and counted, yet unanswered: the delay holds it (a server that ignored
    // delayMs would have answered by now; a correct one never answers early).
    await Promise.race([pending, new Promise((ok) => setTimeout(ok, 300))]);
    assert.equal(answered, false);
    await service.close();
    assert.equal(await within(pending, 10_000, "the answer after close()"), "ok");
  });
});

Deno.test("serveHttp() counts requests and client connections", async () => {
  await withServer({}, async (base, service) => {
    for (let i = 0; i < 3; i++) await (await fetch(base)).text();
    await rawExchange(base, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const stats = service.stats();
    assert.equal(stats.requests, 4);
    // fetch keeps one pooled connection; the raw exchange opened another.
    assert.equal(stats.connections, 2);
  });
});

Deno.test("serveHttp() close() cuts a pending delay short and finishes the response", async () => {
  using ctx = createContext();
  const service = await serveHttp(validateParams(httpServerParams, { delayMs: 60_000 }), ctx);
  const { port } = service.address as Deno.NetAddr;
  const pending = fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
  // Up to 10 s for fetch to reach the server on a loaded machine: closed
  // before, the server would refuse the request instead of answering it.
  for (let i = 0; i < 2000 && service.stats().requests === 0; i++) {
    await new Promise((ok) => setTimeout(ok, 5));
  }
  assert.equal(service.stats().requests, 1);
  // The delay is a minute: only close() cutting it short answers within the bound.
  await within(service.close(), 10_000, "close() to cut the delay short");
  assert.equal(await within(pending, 10_000, "the answer"), "ok");
});

for (const tlsServer of ["deno", "node"] as const) {
  Deno.test(`serveHttp() serves HTTPS with certFile and keyFile (tlsServer ${tlsServer})`, async () => {
    await using certs = await makeCertificates();
    using ctx = createContext();
    const service = await serveHttp(
      validateParams(httpServerParams, {
        certFile: certs.certFile,
        keyFile: certs.keyFile,
        body: "secure",
        tlsServer,
      }),
      ctx,
    );
    using client = Deno.createHttpClient({ caCerts: [certs.caCert] });
    try {
      const { port } = service.address as Deno.NetAddr;
      const response = await fetch(`https://localhost:${port}/`, { client });
      assert.equal(await response.text(), "secure");
    } finally {
      await service.close();
    }
  });
}

Deno.test("serveHttp() throws ConnectionError address-in-use for a taken port", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using ctx = createContext();
  await assert.rejects(
    serveHttp(validateParams(httpServerParams, { port: listener.addr.port }), ctx),
    (error: unknown) => error instanceof ConnectionError && error.code === "address-in-use",
  );
});

Deno.test("httpServerParams rejects certFile without keyFile", () => {
  assert.throws(
    () => validateParams(httpServerParams, { certFile: "cert.pem" }),
    (error: unknown) => error instanceof ParamsError && error.issues[0].path[0] === "keyFile",
  );
});

Deno.test("serveHttp() reads request bodies, Content-Length and chunked, and keeps the connection", async () => {
  await withServer({ body: "ok" }, async (base, service) => {
    const text = await rawExchange(
      base,
      "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
        "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
        "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.equal(text.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 3);
    assert.equal(service.stats().requests, 3);
    assert.equal(service.stats().connections, 1);
  });
});

Deno.test("serveHttp() answers HEAD with the headers only and 100-continue before the body", async () => {
  await withServer({ body: "12345" }, async (base) => {
    const head = await rawExchange(base, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(head, /\r\ncontent-length: 5\r\n/i);
    assert.ok(head.endsWith("\r\n\r\n"), "HEAD got a body");
    const expect = await rawExchange(
      base,
      "PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n" +
        "Connection: close\r\n\r\nhi",
    );
    assert.match(expect, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  });
});

Deno.test("serveHttp() closes after an HTTP/1.0 request without keep-alive", async () => {
  await withServer({ body: "old" }, async (base) => {
    const text = await rawExchange(base, "GET / HTTP/1.0\r\n\r\n");
    assert.match(text, /\r\nconnection: close\r\n/i);
    assert.ok(text.endsWith("old"));
  });
});

Deno.test("serveHttp() answers 400 to what is not HTTP/1.x or smuggles a body, and 431 to a huge head", async () => {
  await withServer({}, async (base, service) => {
    for (
      const request of [
        "HELLO\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabc",
      ]
    ) {
      assert.match(await rawExchange(base, request), /^HTTP\/1\.1 400 Bad Request\r\n/);
    }
    const huge = `GET / HTTP/1.1\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`;
    assert.match(await rawExchange(base, huge), /^HTTP\/1\.1 431 /);
    assert.equal(service.stats().bad_requests, 5);
  });
});

Deno.test("serveHttp() closes a connection idle for idleTimeoutMs", async () => {
  await withServer({ idleTimeoutMs: 100 }, async (base, service) => {
    const { hostname, port } = new URL(base);
    using conn = await Deno.connect({ hostname, port: Number(port) });
    // The server closes it: the read ends instead of waiting forever.
    assert.equal(await within(conn.read(new Uint8Array(16)), 10_000, "the close"), null);
    const stats = service.stats();
    assert.deepEqual([stats.timed_out, stats.idle_timeouts, stats.headers_timeouts], [1, 1, 0]);
  });
});

Deno.test("serveHttp() closes a connection whose head trickles in past headersTimeoutMs", async () => {
  await withServer({ headersTimeoutMs: 200, idleTimeoutMs: 60_000 }, async (base, service) => {
    const { hostname, port } = new URL(base);
    using conn = await Deno.connect({ hostname, port: Number(port) });
    const closed = conn.read(new Uint8Array(16));
    // One byte every 20 ms: never idle, never a whole head.
    for (const byte of new TextEncoder().encode("GET / HTTP/1.1\r\nX-Slow: zzzzzzzzzzzzzzzz")) {
      if (service.stats().timed_out > 0) break;
      await conn.write(new Uint8Array([byte])).catch(() => {});
      await new Promise((ok) => setTimeout(ok, 20));
    }
    assert.equal(await within(closed, 10_000, "the close"), null);
    // Closed for the slow head, not for silence (the idle timeout is a minute).
    const stats = service.stats();
    assert.deepEqual([stats.timed_out, stats.idle_timeouts, stats.headers_timeouts], [1, 0, 1]);
  });
});
