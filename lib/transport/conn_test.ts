import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../errors.ts";
import type { Conn } from "./types.ts";
import { DenoStreamConn, DenoStreamListener } from "./conn.ts";
import { connectTcp, listenTcp, type TcpListener } from "./tcp.ts";
import { commandOutput, within } from "../../tests/_support/command.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Far more than loopback socket buffers hold, so a peer that never reads
// blocks the write.
const HUGE = 64 * 1024 * 1024;
// Generous: an operation that must time out has to do so well before this.
const BOUND_MS = 5000;

interface Pair {
  listener: TcpListener;
  client: Conn;
  server: Conn;
  [Symbol.dispose](): void;
}

async function tcpPair(): Promise<Pair> {
  const listener = listenTcp();
  const client = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  const server = await listener.accept({ timeout: 2000 });
  return {
    listener,
    client,
    server,
    [Symbol.dispose]() {
      client.close();
      server.close();
      listener.close();
    },
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readText(conn: Conn, size: number): Promise<string> {
  const buf = new Uint8Array(size);
  const n = await conn.read(buf, { timeout: 2000 });
  assert.notEqual(n, null);
  return decoder.decode(buf.subarray(0, n!));
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => assert.fail("expected a rejection"), (e: unknown) => e);
}

Deno.test("DenoStreamConn.read() times out with TimeoutError and keeps later bytes", async () => {
  using pair = await tcpPair();
  const err = await failure(
    within(pair.client.read(new Uint8Array(16), { timeout: 50 }), BOUND_MS, "the read to time out"),
  );
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.operation, "read");
  assert.equal(err.address, `127.0.0.1:${pair.listener.addr.port}`);
  assert.equal(pair.client.closed, false);
  await pair.server.write(encoder.encode("hello"));
  assert.equal(await readText(pair.client, 2), "he");
  assert.equal(await readText(pair.client, 16), "llo");
});

Deno.test("DenoStreamConn.read() honours an absolute deadline", async () => {
  using pair = await tcpPair();
  await assert.rejects(pair.client.read(new Uint8Array(4), { deadline: Date.now() + 30 }), {
    name: "TimeoutError",
    operation: "read",
  });
});

Deno.test("DenoStreamConn.read() rejects with the signal's reason and keeps later bytes", async () => {
  using pair = await tcpPair();
  const controller = new AbortController();
  const reason = new Error("caller gave up");
  const reading = pair.client.read(new Uint8Array(8), { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(reading, (e) => e === reason);
  await pair.server.write(encoder.encode("kept"));
  assert.equal(await readText(pair.client, 8), "kept");
});

Deno.test("DenoStreamConn.read() rejects a negative timeout with RangeError and loses nothing", async () => {
  using pair = await tcpPair();
  await assert.rejects(pair.client.read(new Uint8Array(4), { timeout: -5 }), RangeError);
  await pair.server.write(encoder.encode("x"));
  assert.equal(await readText(pair.client, 4), "x");
});

Deno.test("DenoStreamConn.read() with a timeout beyond 2^31-1 ms waits for the data", async () => {
  using pair = await tcpPair();
  const reading = pair.client.read(new Uint8Array(4), { timeout: 2 ** 32 });
  await delay(30);
  await pair.server.write(encoder.encode("late"));
  assert.equal(await reading, 4);
});

Deno.test("DenoStreamConn.read() sets firstByte after connectEnd", async () => {
  using pair = await tcpPair();
  assert.equal(pair.client.timings.firstByte, undefined);
  await pair.server.write(encoder.encode("a"));
  await readText(pair.client, 1);
  const { connectEnd, firstByte, tlsEnd } = pair.client.timings;
  assert.ok(firstByte !== undefined && connectEnd !== undefined && firstByte >= connectEnd);
  assert.equal(tlsEnd, undefined);
});

Deno.test("DenoStreamConn.read() after a local close rejects with ConnectionError closed", async () => {
  using pair = await tcpPair();
  pair.client.close();
  assert.equal(pair.client.closed, true);
  await assert.rejects(pair.client.read(new Uint8Array(4)), {
    name: "ConnectionError",
    code: "closed",
    operation: "read",
  });
});

Deno.test("DenoStreamConn.read() pending during a local close rejects with closed", async () => {
  using pair = await tcpPair();
  const reading = pair.client.read(new Uint8Array(4), { timeout: 2000 });
  pair.client.close();
  await assert.rejects(reading, { name: "ConnectionError", code: "closed" });
});

Deno.test("DenoStreamConn.read() returns null at end of stream", async () => {
  using pair = await tcpPair();
  pair.server.close();
  assert.equal(await pair.client.read(new Uint8Array(4), { timeout: 2000 }), null);
});

Deno.test("DenoStreamConn.write() times out when the peer never reads and closes the conn", async () => {
  using pair = await tcpPair();
  const err = await failure(
    within(
      pair.client.write(new Uint8Array(HUGE), { timeout: 200 }),
      BOUND_MS,
      "the write to time out",
    ),
  );
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.operation, "write");
  assert.equal(pair.client.closed, true);
});

Deno.test("DenoStreamConn.write() rejects with the signal's reason and closes the conn", async () => {
  using pair = await tcpPair();
  const controller = new AbortController();
  const writing = pair.client.write(new Uint8Array(HUGE), { signal: controller.signal });
  await delay(50);
  controller.abort("stop");
  await assert.rejects(writing, (e) => e === "stop");
  assert.equal(pair.client.closed, true);
});

Deno.test("DenoStreamConn.write() after a local close rejects with ConnectionError closed", async () => {
  using pair = await tcpPair();
  pair.client.close();
  await assert.rejects(pair.client.write(encoder.encode("x")), {
    name: "ConnectionError",
    code: "closed",
    operation: "write",
  });
});

Deno.test("DenoStreamConn.write() to a peer that closed fails with broken-pipe or reset", async () => {
  using pair = await tcpPair();
  pair.server.close();
  let err: unknown;
  // The first writes may still be accepted by the kernel; the peer's RST makes a later one fail.
  for (let i = 0; i < 100 && err === undefined; i++) {
    try {
      await pair.client.write(encoder.encode("x"), { timeout: 2000 });
      await delay(5);
    } catch (e) {
      err = e;
    }
  }
  assert.ok(err instanceof ConnectionError, String(err));
  assert.ok(["broken-pipe", "reset"].includes(err.code), err.code);
});

// A Python client that connects, waits for one byte when `wait` is set, then
// closes with SO_LINGER 0 so the kernel sends RST instead of FIN.
function resettingClient(port: number, wait: boolean): Promise<Deno.CommandOutput> {
  return commandOutput("python3", {
    args: [
      "-c",
      [
        "import socket, struct, sys",
        "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)",
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))",
        "if sys.argv[2] == 'wait': s.recv(1)",
        "s.close()",
      ].join("\n"),
      String(port),
      wait ? "wait" : "now",
    ],
    stdout: "null",
    stderr: "piped",
  });
}

Deno.test("DenoStreamConn.read() maps a peer's RST to ConnectionError reset and marks it closed", async () => {
  using listener = listenTcp();
  const peer = resettingClient(listener.addr.port, true);
  using conn = await listener.accept({ timeout: 5000 });
  await conn.write(encoder.encode("g"));
  const { code, stderr } = await peer;
  assert.equal(code, 0, decoder.decode(stderr));
  const err = await failure(conn.read(new Uint8Array(4), { timeout: 2000 }));
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "reset");
  assert.match(err.message, /^Cannot read from 127\.0\.0\.1:\d+: connection reset by peer$/);
  assert.equal((err.cause as Error).name, "ConnectionReset");
  assert.equal(conn.closed, true);
});

Deno.test("DenoStreamListener.accept() skips a client that reset before it was accepted", async () => {
  using listener = listenTcp();
  const { code, stderr } = await resettingClient(listener.addr.port, false);
  assert.equal(code, 0, decoder.decode(stderr));
  using client = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  assert.equal(
    (server.remoteAddr as Deno.NetAddr).port,
    (client.localAddr as Deno.NetAddr).port,
  );
});

Deno.test("DenoStreamConn.closeWrite() lets the peer read EOF and still write back", async () => {
  using pair = await tcpPair();
  await pair.client.write(encoder.encode("request"));
  await pair.client.closeWrite();
  const received: string[] = [];
  for (let i = 0; i < 10; i++) {
    const buf = new Uint8Array(64);
    const n = await pair.server.read(buf, { timeout: 2000 });
    if (n === null) break;
    received.push(decoder.decode(buf.subarray(0, n)));
  }
  assert.equal(received.join(""), "request");
  await pair.server.write(encoder.encode("reply"));
  assert.equal(await readText(pair.client, 16), "reply");
});

Deno.test("DenoStreamConn.setNoDelay() and setKeepAlive() are accepted on TCP", async () => {
  using pair = await tcpPair();
  pair.client.setNoDelay(false);
  pair.client.setKeepAlive(true);
  pair.server.setNoDelay();
  pair.server.setKeepAlive(false);
  await pair.client.write(encoder.encode("ok"));
  assert.equal(await readText(pair.server, 2), "ok");
});

Deno.test("DenoStreamConn wraps a raw Deno connection and exposes it", async () => {
  using raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  using conn = new DenoStreamConn(
    await Deno.connect({ hostname: "127.0.0.1", port: raw.addr.port }),
    "tcp",
  );
  using peer = await raw.accept();
  assert.equal(conn.transport, "tcp");
  assert.deepEqual(conn.timings, {});
  assert.equal((conn.remoteAddr as Deno.NetAddr).port, raw.addr.port);
  assert.equal((conn.localAddr as Deno.NetAddr).port, (peer.remoteAddr as Deno.NetAddr).port);
  assert.equal(conn.raw.remoteAddr, conn.remoteAddr);
});

Deno.test("DenoStreamListener.accept() times out and keeps the later connection", async () => {
  using listener = listenTcp();
  const err = await failure(
    within(listener.accept({ timeout: 50 }), BOUND_MS, "accept to time out"),
  );
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(
    err.message,
    `Cannot accept on 127.0.0.1:${listener.addr.port}: timed out after 50 ms`,
  );
  using client = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  assert.equal(
    (server.remoteAddr as Deno.NetAddr).port,
    (client.localAddr as Deno.NetAddr).port,
  );
  assert.ok(server.timings.connectEnd! >= server.timings.connectStart!);
});

Deno.test("DenoStreamListener.accept() rejects with the signal's reason", async () => {
  using listener = listenTcp();
  const controller = new AbortController();
  const reason = new Error("shutting down");
  const accepting = listener.accept({ signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(accepting, (e) => e === reason);
});

Deno.test("DenoStreamListener.accept() called concurrently gives each call its own conn", async () => {
  using listener = listenTcp();
  const a = listener.accept({ timeout: 2000 });
  const b = listener.accept({ timeout: 2000 });
  using c1 = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using c2 = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using s1 = await a;
  using s2 = await b;
  const accepted = [s1, s2].map((s) => (s.remoteAddr as Deno.NetAddr).port).sort();
  const connected = [c1, c2].map((c) => (c.localAddr as Deno.NetAddr).port).sort();
  assert.deepEqual(accepted, connected);
});

Deno.test("DenoStreamListener.accept() pending during close rejects with closed", async () => {
  const listener = listenTcp();
  const accepting = listener.accept();
  listener.close();
  await assert.rejects(accepting, { name: "ConnectionError", code: "closed", operation: "accept" });
});

Deno.test("DenoStreamListener iteration yields connections until closed", async () => {
  const listener = new DenoStreamListener(
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    "tcp",
  );
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted: Conn[] = [];
  const loop = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const clients = [
    await connectTcp({ port, timeout: 2000 }),
    await connectTcp({ port, timeout: 2000 }),
  ];
  for (let i = 0; i < 100 && accepted.length < 2; i++) await delay(10);
  listener.close();
  await loop;
  assert.equal(accepted.length, 2);
  for (const c of [...clients, ...accepted]) c.close();
});
