import { validateParams } from "../../lib/plugin/params_schema.ts";
import assert from "node:assert/strict";
import { within } from "../../tests/_support/command.ts";
import { createHash } from "node:crypto";
import { createContext } from "../../lib/plugin/context.ts";
import type { Outcome } from "../../lib/plugin/types.ts";
import { listenTcp } from "../../lib/transport/tcp.ts";
import type { Conn } from "../../lib/transport/types.ts";
import httpProbe, {
  httpProbeClientParams,
  probeHttp,
  runHttpProbe,
  startHttpServer,
} from "./mod.ts";
import type { HttpProbeClientOptions } from "./params.ts";

// ---------------------------------------------------------------------------
// A raw HTTP peer: reads each request (head and Content-Length body) and
// answers with exactly the bytes a test gives, to produce responses no real
// server would send.

interface RawRequest {
  head: string;
  body: string;
  /** Index of the request on its connection (0 for the first). */
  index: number;
  /** Index of the connection (0 for the first). */
  connection: number;
}

interface RawReply {
  /** Bytes to send (text is sent as UTF-8). */
  send: string | Uint8Array;
  /** Close the connection after sending. */
  close?: boolean;
}

interface RawPeer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  base: string;
  /** Every request received. */
  requests: RawRequest[];
  /** Connections accepted. */
  connections: number;
}

function rawPeer(reply: (request: RawRequest) => RawReply): RawPeer {
  const listener = listenTcp();
  const conns = new Set<Conn>();
  const tasks = new Set<Promise<void>>();
  const peer: RawPeer = {
    base: `http://127.0.0.1:${listener.addr.port}`,
    requests: [],
    connections: 0,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of conns) conn.close();
      await accepting;
      await Promise.all(tasks);
    },
  };
  const serve = async (conn: Conn, connection: number) => {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(65536);
    let pending = "";
    try {
      for (let index = 0; index < 10_000; index++) {
        let end: number;
        while ((end = pending.indexOf("\r\n\r\n")) < 0) {
          const n = await conn.read(buf);
          if (n === null) return;
          pending += decoder.decode(buf.subarray(0, n), { stream: true });
        }
        const head = pending.slice(0, end);
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        while (pending.length < end + 4 + length) {
          const n = await conn.read(buf);
          if (n === null) return;
          pending += decoder.decode(buf.subarray(0, n), { stream: true });
        }
        const request = { head, body: pending.slice(end + 4, end + 4 + length), index, connection };
        pending = pending.slice(end + 4 + length);
        peer.requests.push(request);
        const { send, close } = reply(request);
        await conn.write(typeof send === "string" ? new TextEncoder().encode(send) : send);
        if (close) return;
      }
    } catch {
      // The client went away or the peer is being disposed: nothing to answer.
    } finally {
      conn.close();
      conns.delete(conn);
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      const task = serve(conn, peer.connections++);
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })().catch(() => {});
  return peer;
}

function ok(body: string, headers = ""): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${
    new TextEncoder().encode(body).length
  }\r\n${headers}\r\n${body}`;
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

async function probe(options: HttpProbeClientOptions): Promise<Outcome> {
  return await runHttpProbe(options);
}

// ---------------------------------------------------------------------------
// Against the plugin's own responder.

Deno.test("probeHttp() reports status, reason, headers and body of a response", async () => {
  const server = await startHttpServer({ status: 201, body: "hello", headers: ["X-Test: yes"] });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/path?q=1` });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.status, 201);
    assert.equal(outcome.facts.status, 201);
    assert.equal(outcome.facts.reason, "Created");
    assert.equal(outcome.facts.http_version, "1.1");
    assert.equal((outcome.facts.headers as Record<string, string>)["x-test"], "yes");
    assert.equal(outcome.facts.body_text, "hello");
    assert.equal(outcome.facts.body_sha256, sha256("hello"));
    assert.equal(outcome.metrics.body_bytes, 5);
    assert.ok(outcome.metrics.header_bytes > 20);
    assert.equal(outcome.facts.url, `http://127.0.0.1:${port}/path?q=1`);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() reports phases that are non-negative and add up to total_ms", async () => {
  const server = await startHttpServer({});
  try {
    const { port } = server.address as Deno.NetAddr;
    const { metrics: m, facts } = await probe({ url: `http://127.0.0.1:${port}/` });
    const phases = [m.redirect_ms, m.dns_ms, m.connect_ms, m.tls_ms, m.ttfb_ms, m.transfer_ms];
    for (const phase of phases) assert.ok(phase >= 0, `negative phase in ${phases}`);
    const sum = phases.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - m.total_ms) < 1e-6, `${sum} != ${m.total_ms}`);
    assert.equal(m.dns_ms, 0, "an IP literal needs no lookup");
    assert.equal(m.tls_ms, 0);
    const t = facts.timeline_ms as Record<string, number>;
    assert.equal(t.appconnect, 0, "no TLS: appconnect is 0, as in curl");
    assert.ok(t.namelookup <= t.connect && t.connect <= t.starttransfer);
    assert.ok(t.starttransfer <= t.total);
    assert.equal(t.total, m.total_ms);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() resolves a host name and times the lookup", async () => {
  const server = await startHttpServer({ body: "named" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://localhost:${port}/` });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.facts.body_text, "named");
    assert.ok(outcome.metrics.dns_ms >= 0);
    // The server binds 127.0.0.1 only: if ::1 came first, it was refused and skipped.
    assert.equal(outcome.facts.remote_address, `127.0.0.1:${port}`);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() says which address a failed probe last connected to or tried", async () => {
  // Refused at every address "localhost" resolved to: the last one tried.
  const closed = listenTcp();
  const port = closed.addr.port;
  closed.close();
  const refused = await probe({ url: `http://localhost:${port}/`, timeoutMs: 2000 });
  assert.equal(refused.ok, false);
  assert.equal(refused.error?.code, "refused");
  assert.match(
    String(refused.facts.remote_address),
    new RegExp(`^(127\\.0\\.0\\.1|\\[::1\\]):${port}$`),
  );
  // Connected, then no answer in time: the address it connected to.
  const server = await startHttpServer({ delayMs: 60_000 });
  try {
    const { port } = server.address as Deno.NetAddr;
    // 1 s: past the connect even on a loaded machine (100 ms could end in it).
    const late = await probe({ url: `http://localhost:${port}/`, timeoutMs: 1000 });
    assert.equal(late.error?.name, "TimeoutError");
    assert.equal(late.facts.remote_address, `127.0.0.1:${port}`);
  } finally {
    await server.close();
  }
  // A name that does not resolve has no address.
  const unresolved = await probe({ url: "http://wiretest-test.invalid/", timeoutMs: 2000 });
  assert.equal(unresolved.error?.code, "dns");
  assert.equal(unresolved.facts.remote_address, undefined);
});

Deno.test("probeHttp() reads a chunked body streamed by the responder", async () => {
  const server = await startHttpServer({ body: "0123456789", bodyRepeat: 500, chunked: true });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/`, bodyTextLimit: 20 });
    const headers = outcome.facts.headers as Record<string, string>;
    assert.equal(headers["transfer-encoding"], "chunked");
    assert.equal(outcome.metrics.body_bytes, 5000);
    assert.equal(outcome.facts.body_sha256, sha256("0123456789".repeat(500)));
    assert.equal(outcome.facts.body_text, "01234567890123456789");
    assert.equal(outcome.facts.body_truncated, true);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() hashes a large body without keeping it", async () => {
  const chunk = "abcdefghijklmnop".repeat(4096); // 64 KiB
  const server = await startHttpServer({ body: chunk, bodyRepeat: 160 }); // 10 MiB
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/` });
    assert.equal(outcome.metrics.body_bytes, 10 * 1024 * 1024);
    assert.equal(outcome.facts.body_sha256, sha256(chunk.repeat(160)));
    assert.equal((outcome.facts.body_text as string).length, 4096);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() measures a delayed answer in ttfb_ms", async () => {
  const server = await startHttpServer({ delayMs: 100 });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/` });
    // The server's timer guarantees this lower bound; it is not a speed claim.
    assert.ok(outcome.metrics.ttfb_ms >= 95, `ttfb_ms ${outcome.metrics.ttfb_ms}`);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() times out with TimeoutError naming the read", async () => {
  const server = await startHttpServer({ delayMs: 60_000 });
  try {
    const { port } = server.address as Deno.NetAddr;
    // The server holds its answer a minute: only the probe's deadline ends
    // this, 1 s after the start (past the connect and the request's write
    // even on a loaded machine: 100 ms could end in them).
    const outcome = await within(
      probe({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 }),
      10_000,
      "the probe's deadline",
    );
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.name, "TimeoutError");
    assert.equal(
      outcome.error?.message,
      `Cannot read from 127.0.0.1:${port}: timed out after 1000 ms`,
    );
    assert.ok(outcome.metrics.connections === 1, "metrics gathered so far are kept");
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() stops with the abort reason when the run is cancelled", async () => {
  const server = await startHttpServer({ delayMs: 60_000 });
  try {
    const { port } = server.address as Deno.NetAddr;
    const controller = new AbortController();
    const pending = runHttpProbe({ url: `http://127.0.0.1:${port}/` }, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error("stopped by test")), 50);
    const outcome = await pending;
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error?.message, "stopped by test");
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() repeats requests on one keep-alive connection", async () => {
  const server = await startHttpServer({ body: "again" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/`, repeat: 50 });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.metrics.requests, 50);
    assert.equal(outcome.metrics.connections, 1);
    const { requests, connections } = server.stats();
    assert.deepEqual({ requests, connections }, { requests: 50, connections: 1 });
    assert.ok(outcome.metrics.latency_p50_ms > 0);
    assert.ok(outcome.metrics.latency_max_ms >= outcome.metrics.latency_p50_ms);
    assert.ok(outcome.metrics.requests_per_s > 0);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() keeps the latencies of repeats that completed before a failure", async () => {
  await using peer = rawPeer(({ index }) => ({
    send: index < 2 ? ok("fine") : "garbage\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/`, repeat: 5 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "HttpParseError");
  assert.equal(outcome.metrics.requests, 3);
  assert.equal(outcome.metrics.status, 200, "the first request's metrics are kept");
  assert.ok(outcome.metrics.latency_max_ms >= outcome.metrics.latency_min_ms);
});

Deno.test("probeHttp() reports no latency summary for a single request", async () => {
  const server = await startHttpServer({});
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/` });
    assert.equal(outcome.metrics.latency_p50_ms, undefined);
    assert.equal(outcome.metrics.requests_per_s, undefined);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() reads no body for HEAD and keeps the connection", async () => {
  const server = await startHttpServer({ body: "not sent for HEAD" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/`, method: "HEAD", repeat: 3 });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.equal(outcome.metrics.body_bytes, 0);
    assert.equal((outcome.facts.headers as Record<string, string>)["content-length"], "17");
    assert.equal(outcome.metrics.connections, 1);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() sends a text body with Content-Length and custom headers", async () => {
  await using peer = rawPeer(() => ({ send: ok("got it") }));
  const outcome = await probe({
    url: `${peer.base}/submit`,
    method: "POST",
    body: "name=wiretest",
    headers: ["Content-Type: application/x-www-form-urlencoded", "user-agent: custom/1"],
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const [request] = peer.requests;
  assert.match(request.head, /^POST \/submit HTTP\/1\.1\r\n/);
  assert.match(request.head, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  assert.match(request.head, /\r\nContent-Length: 13\r\n/);
  assert.match(request.head, /\r\nContent-Type: application\/x-www-form-urlencoded/);
  assert.match(request.head, /\r\nuser-agent: custom\/1/);
  assert.doesNotMatch(request.head, /wiretest-http-probe/, "the user's User-Agent replaces ours");
  assert.equal(request.body, "name=wiretest");
});

Deno.test("probeHttp() streams bodyFile as the request body", async () => {
  const file = await Deno.makeTempFile({ prefix: "wiretest-http-body-" });
  try {
    const content = "line of the body file\n".repeat(5000);
    await Deno.writeTextFile(file, content);
    await using peer = rawPeer(() => ({ send: ok("stored") }));
    const outcome = await probe({ url: `${peer.base}/upload`, method: "PUT", bodyFile: file });
    assert.equal(outcome.ok, true, outcome.error?.message);
    assert.match(peer.requests[0].head, new RegExp(`\r\nContent-Length: ${content.length}$`, "m"));
    assert.equal(peer.requests[0].body, content);
  } finally {
    await Deno.remove(file);
  }
});

// ---------------------------------------------------------------------------
// Edge cases from raw peers.

Deno.test("probeHttp() reads chunk extensions and reports trailers", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n" +
      "5;name=value\r\nhello\r\n" +
      "7 ; ext\r\n, world\r\n" +
      "0\r\nX-Checksum: abc123\r\nX-Other: 1\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/`, repeat: 2 });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.body_text, "hello, world");
  assert.deepEqual(outcome.facts.trailers, { "x-checksum": "abc123", "x-other": "1" });
  assert.equal(peer.connections, 1, "a complete chunked body keeps the connection");
});

Deno.test("probeHttp() fails with HttpParseError on an invalid chunk size", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "HttpParseError");
  assert.equal(outcome.error?.code, "chunk");
  assert.match(outcome.error!.message, /invalid chunk size line "zz"/);
});

Deno.test("probeHttp() reads a close-delimited body and reconnects for the next request", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
    close: true,
  }));
  const outcome = await probe({ url: `${peer.base}/`, repeat: 2 });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.body_text, "until the end");
  assert.equal(outcome.metrics.connections, 2);
  assert.equal(peer.connections, 2);
});

Deno.test("probeHttp() fails when the body is shorter than Content-Length", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    close: true,
  }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "closed");
  assert.match(outcome.error!.message, /connection closed after 3 of 10 body bytes$/);
});

Deno.test("probeHttp() reports the head of a response whose body then failed, not of one it could not frame", async () => {
  await using short = rawPeer(() => ({
    send: "HTTP/1.1 206 Partial\r\nContent-Length: 10\r\nX-Seen: yes\r\n\r\nabc",
    close: true,
  }));
  const failed = await probe({ url: `${short.base}/`, method: "PUT", body: "x" });
  assert.equal(failed.ok, false);
  assert.equal(failed.error?.code, "closed");
  assert.equal(failed.metrics.status, 206);
  assert.equal(failed.facts.status, 206);
  assert.equal(failed.facts.reason, "Partial");
  assert.equal(failed.facts.http_version, "1.1");
  assert.equal(failed.facts.method, "PUT");
  assert.deepEqual(failed.facts.headers, { "content-length": "10", "x-seen": "yes" });
  // The body bytes that came before it ended.
  assert.equal(failed.metrics.body_bytes, 3);
  // A Content-Length no body can be framed by: no response to report.
  await using malformed = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nContent-Length: x5\r\n\r\nhello",
    close: true,
  }));
  const refused = await probe({ url: `${malformed.base}/` });
  assert.equal(refused.ok, false);
  assert.equal(refused.metrics.status, undefined);
  assert.equal(refused.facts.headers, undefined);
});

Deno.test("probeHttp() fails when more bytes follow the body than Content-Length announced", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef",
  }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "HttpParseError");
  assert.equal(outcome.error?.code, "content-length");
  assert.match(outcome.error!.message, /3 bytes arrived after the 3-byte body/);
});

Deno.test("probeHttp() fails at once on a first line that is not HTTP, without waiting", async () => {
  // No empty line ever comes: only the first line can tell.
  await using peer = rawPeer(() => ({ send: "220 smtp.example ESMTP ready\r\n" }));
  const outcome = await probe({ url: `${peer.base}/`, timeoutMs: 60_000 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "HttpParseError");
  assert.match(outcome.error!.message, /invalid status line "220 smtp\.example ESMTP ready"$/);
});

Deno.test("probeHttp() fails with HttpParseError on an invalid status line", async () => {
  await using peer = rawPeer(() => ({ send: "HTP/1.1 200 OK\r\n\r\n", close: true }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "HttpParseError");
  assert.equal(outcome.error?.code, "status-line");
  assert.equal(
    outcome.error?.message,
    `Cannot parse response from ${peer.base.slice(7)}: invalid status line "HTP/1.1 200 OK"`,
  );
});

Deno.test("probeHttp() fails with RangeError when the head exceeds maxHeaderBytes", async () => {
  const big = `X-Big: ${"a".repeat(2000)}\r\n`;
  await using peer = rawPeer(() => ({ send: ok("x", big.repeat(3)) }));
  const outcome = await probe({ url: `${peer.base}/`, maxHeaderBytes: 4096 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "RangeError");
  assert.match(outcome.error!.message, /exceeds maxHeaderBytes 4096$/);
});

Deno.test("probeHttp() fails with RangeError when the body exceeds maxBodyBytes", async () => {
  await using peer = rawPeer(() => ({ send: ok("0123456789") }));
  const outcome = await probe({ url: `${peer.base}/`, maxBodyBytes: 5 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "RangeError");
  assert.match(outcome.error!.message, /exceeds maxBodyBytes 5$/);
});

Deno.test("probeHttp() joins repeated headers and keeps set-cookie as a list", async () => {
  await using peer = rawPeer(() => ({
    send: ok(
      "",
      "Vary: a\r\nVARY: b\r\nSet-Cookie: x=1\r\nSet-Cookie: y=2\r\nX-Fold: one\r\n two\r\n",
    ),
  }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const headers = outcome.facts.headers as Record<string, unknown>;
  assert.equal(headers.vary, "a, b");
  assert.deepEqual(headers["set-cookie"], ["x=1", "y=2"]);
  assert.equal(headers["x-fold"], "one two");
});

Deno.test("probeHttp() keeps headers named like Object.prototype members as plain fields", async () => {
  const names = ["Constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
  await using peer = rawPeer(() => ({
    send: ok("", names.map((name) => `${name}: abc\r\n`).join("")),
  }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const headers = outcome.facts.headers as Record<string, unknown>;
  for (const name of names) {
    const key = name.toLowerCase();
    assert.ok(Object.hasOwn(headers, key), `"${key}" is not a field of its own`);
    assert.equal(headers[key], "abc", `"${key}"`);
  }
  assert.deepEqual(
    Object.entries(JSON.parse(JSON.stringify(headers))).filter(([, v]) => v === "abc").length,
    names.length,
  );
});

Deno.test("probeHttp() keeps a chunked trailer named __proto__ as a field", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "2\r\nhi\r\n0\r\n__proto__: t\r\nConstructor: c\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const trailers = outcome.facts.trailers as Record<string, unknown>;
  assert.ok(Object.hasOwn(trailers, "__proto__"));
  assert.equal(trailers["__proto__"], "t");
  assert.equal(trailers["constructor"], "c");
});

Deno.test("probeHttp() rejects a status code outside 100-599", async () => {
  for (const code of ["000", "099", "600", "999"]) {
    await using peer = rawPeer(() => ({ send: `HTTP/1.1 ${code} X\r\nContent-Length: 0\r\n\r\n` }));
    const outcome = await probe({ url: `${peer.base}/` });
    assert.equal(outcome.ok, false, `status ${code} was accepted`);
    assert.equal(outcome.error?.name, "HttpParseError", code);
    assert.equal(outcome.error?.code, "status-line", code);
    assert.match(outcome.error!.message, new RegExp(`status code "${code}" is not in 100-599$`));
    assert.equal(outcome.metrics.status, undefined, "no status metric for a broken status line");
  }
});

Deno.test("probeHttp() rejects NUL or a bare CR in a header value", async () => {
  const cases: [string, string][] = [
    ["NUL inside", "X-A: ab\u0000cd\r\n"],
    ["bare CR inside", "X-A: ab\rcd\r\n"],
    ["bare CR at the end", "X-A: abcd\r\r\n"],
    ["NUL in a folded line", "X-A: ab\r\n c\u0000d\r\n"],
    ["NUL in the reason phrase", ""],
  ];
  for (const [label, header] of cases) {
    const status = label.includes("reason") ? "200 O\u0000K" : "200 OK";
    await using peer = rawPeer(() => ({
      send: `HTTP/1.1 ${status}\r\n${header}Content-Length: 0\r\n\r\n`,
    }));
    const outcome = await probe({ url: `${peer.base}/` });
    assert.equal(outcome.ok, false, `${label}: accepted`);
    assert.equal(outcome.error?.name, "HttpParseError", label);
    const part = label.includes("reason") ? "status-line" : "header";
    assert.equal(outcome.error?.code, part, label);
    assert.match(outcome.error!.message, /has a NUL or bare CR/, label);
  }
});

Deno.test("probeHttp() refuses two different Location headers instead of following their join", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/`, followRedirects: true });
  assert.equal(outcome.ok, false, "a location neither header named was followed");
  assert.equal(outcome.error?.name, "HttpParseError");
  assert.equal(outcome.error?.code, "header");
  assert.match(outcome.error!.message, /two different "location" headers: "\/a" and "\/b"$/);
  assert.equal(peer.requests.length, 1, "no request went to the joined location");
});

Deno.test("probeHttp() follows a Location header sent twice with the same value", async () => {
  await using peer = rawPeer(({ head }) => ({
    send: head.startsWith("GET /a ")
      ? ok("there")
      : "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/`, followRedirects: true });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.body_text, "there");
  assert.equal((outcome.facts.redirects as { location: string }[])[0].location, "/a");
});

Deno.test("probeHttp() skips an interim 100 Continue response", async () => {
  await using peer = rawPeer(() => ({ send: `HTTP/1.1 100 Continue\r\n\r\n${ok("final")}` }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.metrics.status, 200);
  assert.equal(outcome.facts.body_text, "final");
});

Deno.test("probeHttp() reads no body for 204 and 304 responses", async () => {
  await using peer = rawPeer(({ index }) => ({
    // A Content-Length on a 304 describes the resource, not this response.
    send: index === 0
      ? "HTTP/1.1 204 No Content\r\n\r\n"
      : "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/`, repeat: 2 });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.status, 204);
  assert.equal(peer.requests.length, 2);
  assert.equal(peer.connections, 1);
});

Deno.test("probeHttp() resends on a new connection when a kept-alive one was closed", async () => {
  await using peer = rawPeer(({ index }) => ({
    // Closing without "Connection: close": the client learns only on reuse.
    send: ok(`reply ${index}`),
    close: true,
  }));
  const outcome = await probe({ url: `${peer.base}/`, repeat: 3 });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.connections, 3);
  assert.equal(peer.requests.length, 3);
});

Deno.test("probeHttp() closes after Connection: close and HTTP/1.0 responses", async () => {
  await using peer = rawPeer(({ connection }) => ({
    send: connection === 0
      ? ok("a", "Connection: close\r\n")
      : "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nb",
  }));
  const outcome = await probe({ url: `${peer.base}/`, repeat: 3 });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.connections, 3);
  assert.equal(outcome.facts.http_version, "1.1");
});

// ---------------------------------------------------------------------------
// Redirects.

Deno.test("probeHttp() does not follow redirects by default and reports the location", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/start` });
  assert.equal(outcome.ok, true);
  assert.equal(outcome.metrics.status, 302);
  assert.equal(outcome.facts.location, "/elsewhere");
  assert.equal(outcome.metrics.redirects, 0);
  assert.equal(peer.requests.length, 1);
});

Deno.test("probeHttp() follows redirects on the same connection and records each hop", async () => {
  await using peer = rawPeer(({ head }) => {
    if (head.startsWith("GET /a ")) {
      return { send: "HTTP/1.1 301 Moved\r\nLocation: /b\r\nContent-Length: 5\r\n\r\nmoved" };
    }
    if (head.startsWith("GET /b ")) {
      return { send: "HTTP/1.1 307 Temporary\r\nLocation: /c?x=1\r\nContent-Length: 0\r\n\r\n" };
    }
    return { send: ok("arrived") };
  });
  const outcome = await probe({ url: `${peer.base}/a`, followRedirects: true });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.metrics.status, 200);
  assert.equal(outcome.metrics.redirects, 2);
  assert.equal(outcome.facts.url, `${peer.base}/c?x=1`);
  assert.equal(outcome.facts.body_text, "arrived");
  const hops = outcome.facts.redirects as {
    url: string;
    status: number;
    location: string;
    remote_address: string;
  }[];
  const server = peer.base.slice("http://".length);
  assert.deepEqual(hops.map((h) => [h.url, h.status, h.location, h.remote_address]), [
    [`${peer.base}/a`, 301, "/b", server],
    [`${peer.base}/b`, 307, "/c?x=1", server],
  ]);
  assert.equal(outcome.metrics.connections, 1);
  const m = outcome.metrics;
  const sum = m.redirect_ms + m.dns_ms + m.connect_ms + m.tls_ms + m.ttfb_ms + m.transfer_ms;
  assert.ok(Math.abs(sum - m.total_ms) < 1e-6);
});

Deno.test("probeHttp() follows a redirect to another origin without its credentials", async () => {
  await using target = rawPeer(() => ({ send: ok("over there") }));
  await using origin = rawPeer(() => ({
    send: `HTTP/1.1 302 Found\r\nLocation: ${target.base}/landing\r\nContent-Length: 0\r\n\r\n`,
  }));
  const outcome = await probe({
    url: `${origin.base}/`,
    followRedirects: true,
    headers: ["Authorization: Bearer secret", "X-Trace: 42"],
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  assert.equal(outcome.facts.body_text, "over there");
  assert.equal(outcome.metrics.connections, 2);
  assert.match(origin.requests[0].head, /\r\nAuthorization: Bearer secret/);
  const [landing] = target.requests;
  assert.match(landing.head, /^GET \/landing HTTP\/1\.1\r\n/);
  assert.match(landing.head, new RegExp(`\r\nHost: ${target.base.slice(7)}`));
  assert.match(landing.head, /\r\nX-Trace: 42/);
  assert.doesNotMatch(landing.head, /authorization/i);
});

Deno.test("probeHttp() turns a POST into a GET without body on 303", async () => {
  await using peer = rawPeer(({ head }) =>
    head.startsWith("POST ")
      ? { send: "HTTP/1.1 303 See Other\r\nLocation: /result\r\nContent-Length: 0\r\n\r\n" }
      : { send: ok("result") }
  );
  const outcome = await probe({
    url: `${peer.base}/form`,
    method: "POST",
    body: "a=1",
    headers: ["Content-Type: text/plain"],
    followRedirects: true,
  });
  assert.equal(outcome.ok, true, outcome.error?.message);
  const second = peer.requests[1];
  assert.match(second.head, /^GET \/result HTTP\/1\.1/);
  assert.doesNotMatch(second.head, /content-(length|type)/i);
});

Deno.test("probeHttp() fails with RedirectError on a redirect loop", async () => {
  await using peer = rawPeer(({ head }) => ({
    send: `HTTP/1.1 302 Found\r\nLocation: ${
      head.startsWith("GET /one ") ? "/two" : "/one"
    }\r\nContent-Length: 0\r\n\r\n`,
  }));
  const outcome = await probe({ url: `${peer.base}/one`, followRedirects: true });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "RedirectError");
  assert.equal(outcome.error?.code, "redirect-loop");
  assert.match(
    outcome.error!.message,
    /^Cannot follow redirect to "http:\/\/127\.0\.0\.1:\d+\/one"/,
  );
  assert.equal((outcome.facts.redirects as unknown[]).length, 2, "hops so far are kept");
});

Deno.test("probeHttp() fails with RedirectError past maxRedirects", async () => {
  await using peer = rawPeer(({ index }) => ({
    send: `HTTP/1.1 302 Found\r\nLocation: /${index + 1}\r\nContent-Length: 0\r\n\r\n`,
  }));
  const outcome = await probe({ url: `${peer.base}/0`, followRedirects: true, maxRedirects: 3 });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "too-many-redirects");
  assert.match(outcome.error!.message, /more than maxRedirects 3 redirects$/);
  assert.equal(peer.requests.length, 4);
});

Deno.test("probeHttp() refuses to follow a redirect to another scheme", async () => {
  await using peer = rawPeer(() => ({
    send: "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/file\r\nContent-Length: 0\r\n\r\n",
  }));
  const outcome = await probe({ url: `${peer.base}/`, followRedirects: true });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "bad-location");
});

// ---------------------------------------------------------------------------
// Failures before any response, params, and the plugin's summary.

Deno.test("probeHttp() reports a refused connection as ConnectionError refused", async () => {
  const listener = listenTcp();
  const port = listener.addr.port;
  listener.close();
  const outcome = await probe({ url: `http://127.0.0.1:${port}/` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.name, "ConnectionError");
  assert.equal(outcome.error?.code, "refused");
  assert.equal(outcome.metrics.requests, 0);
});

Deno.test("probeHttp() reports a connection closed before any response", async () => {
  await using peer = rawPeer(() => ({ send: "", close: true }));
  const outcome = await probe({ url: `${peer.base}/` });
  assert.equal(outcome.ok, false);
  assert.equal(outcome.error?.code, "closed");
  assert.match(outcome.error!.message, /connection closed before a response$/);
});

Deno.test("httpProbeClientParams rejects a non-HTTP URL and a malformed header", async () => {
  await assert.rejects(
    runHttpProbe({ url: "ftp://127.0.0.1/" }),
    /"url" Cannot parse URL "ftp:\/\/127\.0\.0\.1\/": it is not an http:\/\/ or https:\/\/ URL/,
  );
  await assert.rejects(
    runHttpProbe({ url: "http://127.0.0.1/", headers: ["no colon here"] }),
    /"headers\.0" must be "Name: value"/,
  );
});

Deno.test("http-probe summary() describes the request, phases and repeats", async () => {
  const server = await startHttpServer({ body: "summary" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/`, repeat: 5 });
    const text = httpProbe.client!.summary!(outcome);
    const lines = text.split("\n");
    assert.match(lines[0], /^GET http:\/\/127\.0\.0\.1:\d+\/ 200 OK: 7 B in [\d.]+ ms \(dns /);
    assert.match(lines[1], /^5 requests on 1 connection: latency p50 [\d.]+ ms p99 [\d.]+ ms, /);
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() reports progress for many repeats", async () => {
  const server = await startHttpServer({ delayMs: 30 });
  try {
    const { port } = server.address as Deno.NetAddr;
    const updates: number[] = [];
    using ctx = createContext({ progress: (p) => updates.push(p.done) });
    await probeHttp(
      validateParams(httpProbeClientParams, { url: `http://127.0.0.1:${port}/`, repeat: 12 }),
      ctx,
    );
    assert.ok(updates.length >= 1, "no progress reported over 12 slow requests");
    assert.ok(updates.every((done) => done >= 1 && done <= 12));
  } finally {
    await server.close();
  }
});

Deno.test("probeHttp() warms its request path on loopback exchanges of its own, not with the target", async () => {
  const server = await startHttpServer({ body: "warm" });
  try {
    const { port } = server.address as Deno.NetAddr;
    const outcome = await probe({ url: `http://127.0.0.1:${port}/` });
    assert.equal(outcome.ok, true);
    assert.equal(outcome.facts.warm_up, "loopback-exchange");
    // The warm-up's connection is not the target's: the server saw one.
    const { requests, connections } = server.stats();
    assert.deepEqual({ requests, connections }, { requests: 1, connections: 1 });
  } finally {
    await server.close();
  }
});

Deno.test({
  name: "probeHttp() says it could not warm up without a net grant for loopback",
  permissions: { net: ["localhost"], read: true, env: true },
  async fn() {
    const outcome = await probe({ url: "http://localhost:9/", timeoutMs: 2000 });
    assert.equal(outcome.facts.warm_up, "none");
  },
});
