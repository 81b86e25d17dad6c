// The HTTP responder (http-probe's server role), and the proxy's cap,
// against clients that misbehave on purpose (_support/http_client_peer.py):
// a body that stalls or trickles, an answer nobody reads, broken framing
// inside a body, malformed heads, more connections than allowed. Each must
// end in a closed connection the server counts, and `close()` / SIGINT must
// finish and say what it had to cut.
import assert from "node:assert/strict";
import { join } from "node:path";
import { within } from "../_support/command.ts";
import { freePort } from "../_support/peer.ts";
import { testFixtures } from "../../lib/testing/mod.ts";
import { createContext } from "../../lib/plugin/context.ts";
import { validateParams } from "../../lib/plugin/params_schema.ts";
import type { LogLevel, Service } from "../../lib/plugin/types.ts";
import { type HttpServerOptions, httpServerParams } from "../../plugins/http_probe/params.ts";
import { serveHttp } from "../../plugins/http_probe/server.ts";
import { proxyServerParams } from "../../plugins/proxy/params.ts";
import { serveProxy } from "../../plugins/proxy/server.ts";
import {
  eventually,
  type LineProcess,
  record,
  serveProcess,
  spawnLines,
  startHostile,
} from "./_support/process.ts";

const PEER = new URL("./_support/http_client_peer.py", import.meta.url).pathname;
/** A large answer: 100 MB, far beyond any socket buffer. */
const BIG = { body: "x", bodyRepeat: 100_000_000 } as const;

/** Starts a client peer and waits until it has done its harm ("READY"). */
async function startPeer(
  mode: string,
  port: number,
  options: Record<string, unknown> = {},
): Promise<LineProcess> {
  const peer = spawnLines("python3", ["-u", PEER, mode, JSON.stringify({ port, ...options })]);
  try {
    assert.equal(await peer.nextLine(10_000), "READY");
  } catch (error) {
    await peer[Symbol.asyncDispose]();
    throw error;
  }
  return peer;
}

/** Runs a peer mode that reports one JSON line, and returns it. */
async function peerResult(
  mode: string,
  port: number,
  options: Record<string, unknown>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  await using peer = spawnLines("python3", [
    "-u",
    PEER,
    mode,
    JSON.stringify({ port, ...options }),
  ]);
  let line: string;
  while ((line = await peer.nextLine(timeoutMs)) === "READY");
  return JSON.parse(line);
}

interface InProcess extends AsyncDisposable {
  service: Service;
  port: number;
  logs: string[];
}

async function inProcess(options: HttpServerOptions): Promise<InProcess> {
  const logs: string[] = [];
  const ctx = createContext({
    log: (level: LogLevel, message: string) => logs.push(`${level}: ${message}`),
  });
  const service = await serveHttp(validateParams(httpServerParams, options), ctx);
  return {
    service,
    port: (service.address as Deno.NetAddr).port,
    logs,
    async [Symbol.asyncDispose]() {
      await within(service.close(), 20_000, "the responder to close");
      ctx[Symbol.dispose]();
    },
  };
}

Deno.test("http responder: close() ends a stalled body and an unread answer, and says so", async () => {
  await using server = await inProcess(BIG);
  await using stalled = await startPeer("stall-body", server.port);
  await using _deaf = await startPeer("no-read", server.port);
  // Both requests are in: one mid-body, one mid-answer.
  assert.ok(await eventually(() => server.service.stats().requests === 2, 10_000));
  const started = performance.now();
  await within(server.service.close(), 20_000, "close() against two stuck clients");
  const ms = performance.now() - started;
  const stats = server.service.stats();
  record("http responder: close() with a stalled body and an unread answer", { ms, stats });
  assert.equal(stats.shutdown_aborted, 2);
  assert.equal(stats.active, 0);
  assert.ok(
    server.logs.some((line) =>
      /^warn: .*closed 2 connections still busy 1000 ms after close\(\) began/.test(line)
    ),
    server.logs.join("\n"),
  );
  // The stalled client sees its connection end.
  const seen = JSON.parse(await stalled.nextLine(10_000));
  assert.equal(seen.closed, true);
});

Deno.test("http responder: testFixtures() ends a fixture whose service has a stalled client", async () => {
  const port = freePort();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      join(dir, "stuck.wire.yaml"),
      `name: a client stalls mid-body
services:
  web: { plugin: http-probe, with: { port: ${port}, delayMs: 2000 } }
steps:
  - name: slow_answer
    plugin: http-probe
    with: { url: "http://127.0.0.1:${port}/" }
`,
    );
    const tests: Deno.TestDefinition[] = [];
    await testFixtures(dir, { register: (test) => void tests.push(test) });
    // Connects as soon as the service listens, then stalls mid-body for good.
    await using stalled = spawnLines("python3", [
      "-u",
      PEER,
      "stall-body",
      JSON.stringify({ port, wait: 30 }),
    ]);
    const t = {
      step: async (_name: string, fn: (t: Deno.TestContext) => Promise<void>) => {
        await fn(t as unknown as Deno.TestContext);
        return true;
      },
    };
    // Before the bound, closing the service outlived the runner's 5 s limit
    // for a service close, which fails the fixture.
    const ran = Promise.resolve(tests[0].fn(t as unknown as Deno.TestContext));
    await within(ran, 30_000, "the fixture to end");
    assert.equal(await stalled.nextLine(10_000), "READY");
    assert.equal(JSON.parse(await stalled.nextLine(10_000)).closed, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const isolation of [true, false]) {
  const how = isolation ? "isolated" : "--no-isolation";
  Deno.test(`http responder: SIGINT (${how}) ends stuck clients and reports them`, async () => {
    await using server = await serveProcess("http-probe", [
      ...(isolation ? [] : ["--no-isolation"]),
      "--body",
      BIG.body,
      "--body-repeat",
      String(BIG.bodyRepeat),
    ]);
    await using _stalled = await startPeer("stall-body", server.port);
    await using _deaf = await startPeer("no-read", server.port);
    // Both requests reached the server before it is told to stop: the peers
    // sent them, and the server, in a process of its own that says nothing
    // per request, is given 2 s to read them (300 ms could pass unread on a
    // loaded machine).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    server.kill("SIGINT");
    const closed = JSON.parse(await server.nextLine(20_000));
    const status = await within(server.status, 20_000, "the server to exit after SIGINT");
    record(`http responder: SIGINT ${how}`, { stats: closed.stats });
    assert.equal(status.code, 0);
    assert.equal(closed.event, "closed");
    assert.equal(closed.stats.requests, 2);
    assert.equal(closed.stats.shutdown_aborted, 2);
    assert.match(
      server.stderr(),
      /warn: .*closed 2 connections still busy 1000 ms after close\(\)/,
    );
  });
}

Deno.test("http responder: isolated, a closeTimeoutMs past the isolation grace ends in a killed process that says so", async () => {
  await using server = await serveProcess("http-probe", ["--close-timeout-ms", "60000"]);
  await using _stalled = await startPeer("stall-body", server.port);
  // Read by the server before it is told to stop (see above).
  await new Promise((resolve) => setTimeout(resolve, 2000));
  server.kill("SIGINT");
  const closed = JSON.parse(await server.nextLine(20_000));
  assert.equal((await within(server.status, 20_000, "the server to exit")).code, 0);
  assert.equal(closed.event, "closed");
  assert.match(
    server.stderr(),
    /warn: .*did not close within 2000 ms, so its process was killed with its connections/,
  );
});

Deno.test("http responder: a body trickling one byte every 2 s is closed by the minimum data rate", async () => {
  // Defaults: 240 bytes/s after a 5 s grace; the idle timeout (60 s) never
  // fires on a client that is never silent for long.
  await using server = await inProcess({});
  const result = await peerResult("trickle-body", server.port, { interval: 2, hold: 30 }, 40_000);
  const stats = server.service.stats();
  record("http responder: trickling body", { ...result, stats });
  assert.equal(result.closed, true, "the responder kept the trickling client for 30 s");
  assert.equal(stats.rate_timeouts, 1);
  assert.equal(stats.idle_timeouts, 0);
});

Deno.test("http responder: a client reading the answer slower than minDataRate is closed", async () => {
  // 4 KiB every 0.5 s is 8 KB/s against a floor of 100 KB/s: a 256 KiB block
  // gets 1 s + 2.6 s, and takes the client half a minute. No idle timeout.
  await using server = await inProcess({
    ...BIG,
    minDataRate: 100_000,
    minDataRateGraceMs: 1000,
    idleTimeoutMs: 0,
  });
  await using _slow = await startPeer("slow-read", server.port, { interval: 0.5, hold: 60 });
  // Asked of the server: the client still has megabytes of the closed
  // connection's send buffer to read at its pace before it sees the end.
  assert.ok(
    await eventually(() => server.service.stats().rate_timeouts === 1, 30_000),
    JSON.stringify(server.service.stats()),
  );
  assert.deepEqual([server.service.stats().active, server.service.stats().idle_timeouts], [0, 0]);
});

Deno.test("http responder: a body and a reader at twice minDataRate are not cut", async () => {
  // Floor 5,000 bytes/s, 1 s grace: the body comes at 20 KB/s (2 KB every
  // 0.1 s) for 6 s; the 240 KB answer is read at 40 KB/s (4 KiB every 0.1 s).
  await using server = await inProcess({
    body: "x",
    bodyRepeat: 240_000,
    minDataRate: 5000,
    minDataRateGraceMs: 1000,
  });
  const [sender, reader] = await Promise.all([
    peerResult(
      "trickle-body",
      server.port,
      { size: 120_000, chunk: 2000, interval: 0.1, hold: 30 },
      40_000,
    ),
    peerResult(
      "slow-read",
      server.port,
      { chunk: 4096, interval: 0.1, expect: 240_000, hold: 30 },
      40_000,
    ),
  ]);
  record("http responder: fair clients", { sender, reader });
  assert.deepEqual([sender.closed, sender.sent, sender.status], [
    false,
    120_000,
    "HTTP/1.1 200 OK",
  ]);
  assert.equal(reader.closed, false);
  assert.ok((reader.received as number) >= 240_000, `received ${reader.received}`);
  assert.equal(server.service.stats().rate_timeouts, 0);
});

Deno.test("http responder: a client that never reads is closed by the minimum data rate without an idle timeout", async () => {
  await using server = await inProcess({
    ...BIG,
    minDataRate: 100_000,
    minDataRateGraceMs: 1000,
    idleTimeoutMs: 0,
  });
  await using _deaf = await startPeer("no-read", server.port);
  assert.ok(
    await eventually(() => server.service.stats().rate_timeouts === 1, 20_000),
    JSON.stringify(server.service.stats()),
  );
  assert.equal(server.service.stats().active, 0);
});

Deno.test("http responder: broken framing inside a body is answered 400 or 431, not a silent close", async () => {
  await using server = await inProcess({});
  const chunked = "POST / HTTP/1.1\r\nHost: peer\r\nTransfer-Encoding: chunked\r\n\r\n";
  // Each request is [text, times] parts, repeated by the peer.
  const requests = [
    // A chunk extension far over the 4 KiB a chunk line may have.
    [[`${chunked}5;`, 1], ["e", 10_000], ["\r\nhello\r\n0\r\n\r\n", 1]],
    // 16 hex digits: more than any body, and more than a double holds exactly.
    [[`${chunked}ffffffffffffffff\r\n`, 1]],
    // 12,000 small trailer fields: 72 KB with their line ends, 48 KB without.
    [[`${chunked}0\r\n`, 1], ["t: v\r\n", 12_000], ["\r\n", 1]],
    // Chunk data not followed by CRLF.
    [[`${chunked}3\r\nabcXY\r\n0\r\n\r\n`, 1]],
  ];
  const result = await peerResult("raw", server.port, { requests }, 60_000);
  assert.deepEqual(result.statuses, [
    "HTTP/1.1 400 Bad Request",
    "HTTP/1.1 400 Bad Request",
    "HTTP/1.1 431 Request Header Fields Too Large",
    "HTTP/1.1 400 Bad Request",
  ]);
  assert.equal(server.service.stats().bad_requests, 4);
});

Deno.test("http responder: bare CR or NUL in a value, no Host or two Hosts get 400", async () => {
  await using server = await inProcess({});
  const requests = [
    "GET / HTTP/1.1\rHost: peer\r\nX-A: a\rb\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer\r\nX-A: a\rb\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer\r\nX-A: a\0b\r\n\r\n",
    "GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
    // What stays fine: HTTP/1.0 may omit Host; one Host on 1.1.
    "GET / HTTP/1.0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n\r\n",
  ];
  const parts = requests.map((request) => [[request, 1]]);
  const result = await peerResult("raw", server.port, { requests: parts }, 60_000);
  assert.deepEqual(result.statuses, [
    ...Array(6).fill("HTTP/1.1 400 Bad Request"),
    "HTTP/1.1 200 OK",
    "HTTP/1.1 200 OK",
  ]);
  assert.equal(server.service.stats().bad_requests, 6);
});

Deno.test("http responder: a Host that is not host[:port], and control characters in the target or a value get 400", async () => {
  await using server = await inProcess({});
  const requests = [
    // RFC 9112 3.2: a Host with an invalid value is a 400, as none or two are.
    "GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: user@peer\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer/x\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer:80x\r\nConnection: close\r\n\r\n",
    "GET /a\x01b HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n\r\n",
    "GET /a\x1b[31mb HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer\r\nX-A: a\x7fb\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: peer\r\nX-A: a\x1b[2Jb\r\nConnection: close\r\n\r\n",
    // What stays fine: an empty Host, an IPv6 literal with a port, a tab in a value.
    "GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nX-A: a\tb\r\nConnection: close\r\n\r\n",
    "GET /%41?q=1 HTTP/1.1\r\nHost: peer.example:80\r\nConnection: close\r\n\r\n",
  ];
  // Connection: close on each, so a wrong 200 is seen at once, not after a keep-alive wait.
  const parts = requests.map((request) => [[request, 1]]);
  const result = await peerResult("raw", server.port, { requests: parts }, 60_000);
  assert.deepEqual(result.statuses, [
    ...Array(8).fill("HTTP/1.1 400 Bad Request"),
    ...Array(3).fill("HTTP/1.1 200 OK"),
  ]);
  assert.equal(server.service.stats().bad_requests, 8);
});

Deno.test("http responder: chunked framing read differently by other parsers gets 400 (bare LF, spaces around a size, chunked twice, chunked on HTTP/1.0)", async () => {
  await using server = await inProcess({});
  const post = "POST / HTTP/1.1\r\nHost: peer\r\nConnection: close\r\n";
  const chunked = `${post}Transfer-Encoding: chunked\r\n\r\n`;
  const requests = [
    `${chunked}5\nhello\r\n0\r\n\r\n`,
    `${chunked}5\r\nhello\n0\r\n\r\n`,
    `${chunked}5\r\nhello\r\n0\r\nX-T: 1\n\r\n`,
    `${chunked}5 \r\nhello\r\n0\r\n\r\n`,
    `${chunked} 5\r\nhello\r\n0\r\n\r\n`,
    `${post}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    `${post}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`,
    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    // What stays fine: an extension (with whitespace before its ";"), trailers.
    `${chunked}5 ;a=b\r\nhello\r\n5;c\r\nworld\r\n0\r\nX-T: 1\r\n\r\n`,
    `${post}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`,
  ];
  const parts = requests.map((request) => [[request, 1]]);
  const result = await peerResult("raw", server.port, { requests: parts }, 60_000);
  assert.deepEqual(result.statuses, [
    ...Array(8).fill("HTTP/1.1 400 Bad Request"),
    ...Array(2).fill("HTTP/1.1 200 OK"),
  ]);
  assert.equal(server.service.stats().bad_requests, 8);
});

Deno.test("http responder: connections beyond maxConnections are refused at once", async () => {
  await using server = await inProcess({ maxConnections: 20 });
  await using peer = spawnLines("python3", [
    "-u",
    PEER,
    "hold",
    JSON.stringify({ port: server.port, count: 30, settle: 1 }),
  ]);
  const seen = JSON.parse(await peer.nextLine(20_000));
  assert.deepEqual(seen, { open: 20, closed: 10 });
  const stats = server.service.stats();
  assert.equal(stats.rejected, 10);
  assert.equal(stats.active, 20);
});

/** Resident KiB per connection that `count` held half-heads (`pad` bytes of header) add to a server. */
async function memoryPerConnection(count: number, pad: number): Promise<number> {
  await using server = await serveProcess("http-probe", [
    // In this process, so its memory is the server's own.
    "--no-isolation",
    "--headers-timeout-ms",
    "120000",
  ]);
  const before = server.memory().rssKb;
  await using peer = spawnLines("python3", [
    "-u",
    PEER,
    "hold",
    JSON.stringify({ port: server.port, count, pad, settle: 2 }),
  ]);
  const seen = JSON.parse(await peer.nextLine(60_000));
  assert.deepEqual(seen, { open: count, closed: 0 });
  const after = server.memory().rssKb;
  const perConnectionKb = (after - before) / count;
  record(`http responder: RSS per held connection, ${pad}-byte header`, {
    before,
    after,
    perConnectionKb,
  });
  console.log(
    `${count} held, ${pad} B header: RSS ${before} -> ${after} KiB, ${
      perConnectionKb.toFixed(1)
    } KiB each`,
  );
  const stats = await server.stop();
  assert.equal(stats.connections, count);
  return perConnectionKb;
}

// README's budget: about 33 KiB per connection, about 105 KiB with a 64 KiB
// head in flight, which is what sets the default maxConnections (4000).
Deno.test("http responder: memory per connection stays within the stated budget, idle and with a 60 KB head in flight", async () => {
  assert.ok(await memoryPerConnection(2000, 0) < 48);
  assert.ok(await memoryPerConnection(1000, 60_000) < 128);
});

Deno.test("proxy: client connections beyond maxConnections are refused at once and counted", async () => {
  await using upstream = await startHostile("no-read");
  using ctx = createContext();
  const service = await serveProxy(
    validateParams(proxyServerParams, {
      upstream: `127.0.0.1:${upstream.port}`,
      maxConnections: 20,
    }),
    ctx,
  );
  try {
    const api = service.address as Deno.NetAddr;
    const listed = await (await fetch(`http://127.0.0.1:${api.port}/proxies`)).json();
    const port = Number(listed.proxy.listen.split(":").at(-1));
    await using peer = spawnLines("python3", [
      "-u",
      PEER,
      "hold",
      JSON.stringify({ port, count: 30, settle: 1 }),
    ]);
    const seen = JSON.parse(await peer.nextLine(20_000));
    assert.deepEqual(seen, { open: 20, closed: 10 });
    const stats = service.stats();
    assert.deepEqual([stats.rejected, stats.connections, stats.active], [10, 20, 20]);
  } finally {
    await within(service.close(), 20_000, "the proxy to close");
  }
});
