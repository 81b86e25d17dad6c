import assert from "node:assert/strict";
import { ConnectionError, PermissionDeniedError, TimeoutError } from "../errors.ts";
import type { Conn } from "./types.ts";
import { connectTcp, listenTcp, type TcpListener } from "./tcp.ts";
import { killAfter, within } from "../../tests/_support/command.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
// Generous: an operation that must time out has to do so well before this.
const BOUND_MS = 5000;

interface Saturated {
  listener: TcpListener;
  [Symbol.dispose](): void;
}

// A listener that never accepts, with a backlog of 1, filled until a connect
// hangs: Linux then drops further SYNs, so the next connect cannot complete.
async function saturatedListener(): Promise<Saturated> {
  const listener = listenTcp({ backlog: 1 });
  const fillers: Conn[] = [];
  const dispose = () => {
    for (const c of fillers) c.close();
    listener.close();
  };
  try {
    for (let i = 0; i < 16; i++) {
      try {
        // 2 s: a connect that only a loaded machine delayed is not taken for
        // a full queue (a test then expecting a hang would see it connect).
        fillers.push(await connectTcp({ port: listener.addr.port, timeout: 2000 }));
      } catch (error) {
        if (error instanceof TimeoutError) return { listener, [Symbol.dispose]: dispose };
        throw error;
      }
    }
    throw new Error("Cannot saturate the listen queue: 16 connections were all accepted");
  } catch (error) {
    dispose();
    throw error;
  }
}

Deno.test("connectTcp() round trips bytes with a listenTcp() listener", async () => {
  using listener = listenTcp();
  using client = await connectTcp({ port: listener.addr.port, timeout: 2000 });
  using server = await listener.accept({ timeout: 2000 });
  await client.write(encoder.encode("ping"), { timeout: 2000 });
  const buf = new Uint8Array(4);
  assert.equal(await server.read(buf, { timeout: 2000 }), 4);
  assert.equal(decoder.decode(buf), "ping");
  assert.equal(client.transport, "tcp");
  assert.equal((client.remoteAddr as Deno.NetAddr).port, listener.addr.port);
});

Deno.test("connectTcp() sets dns and connect timing marks in order", async () => {
  using listener = listenTcp();
  using client = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  using _server = await listener.accept({ timeout: 2000 });
  const { dnsStart, dnsEnd, connectStart, connectEnd, tlsEnd, firstByte } = client.timings;
  assert.ok(dnsStart !== undefined && dnsEnd !== undefined);
  assert.ok(connectStart !== undefined && connectEnd !== undefined);
  assert.ok(dnsStart <= dnsEnd && dnsEnd <= connectStart && connectStart <= connectEnd);
  assert.equal(tlsEnd, undefined);
  assert.equal(firstByte, undefined);
});

Deno.test("connectTcp() connects over IPv6 loopback", async () => {
  using listener = listenTcp({ hostname: "::1" });
  using client = await connectTcp({ hostname: "::1", port: listener.addr.port, timeout: 2000 });
  using _server = await listener.accept({ timeout: 2000 });
  assert.equal((client.remoteAddr as Deno.NetAddr).hostname, "::1");
  assert.equal(client.timings.dnsStart, client.timings.connectStart);
});

Deno.test("connectTcp() times out against a full listen queue", async () => {
  using saturated = await saturatedListener();
  const port = saturated.listener.addr.port;
  const err = await within(connectTcp({ port, timeout: 100 }), BOUND_MS, "connect to time out")
    .then(() => null, (e: unknown) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.operation, "connect");
  assert.equal(err.address, `127.0.0.1:${port}`);
  assert.equal(err.timeoutMs, 100);
  assert.equal(err.message, `Cannot connect to 127.0.0.1:${port}: timed out after 100 ms`);
});

Deno.test("connectTcp() honours an absolute deadline", async () => {
  using saturated = await saturatedListener();
  await assert.rejects(
    within(
      connectTcp({ port: saturated.listener.addr.port, deadline: Date.now() + 100 }),
      BOUND_MS,
      "connect to reach its deadline",
    ),
    { name: "TimeoutError", operation: "connect" },
  );
});

Deno.test("connectTcp() rejects with the signal's reason when aborted", async () => {
  using saturated = await saturatedListener();
  const controller = new AbortController();
  const reason = new Error("test over");
  const connecting = connectTcp({ port: saturated.listener.addr.port, signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(connecting, (e) => e === reason);
});

Deno.test("connectTcp() rejects at once when the signal is already aborted", async () => {
  using listener = listenTcp();
  await assert.rejects(
    connectTcp({ port: listener.addr.port, signal: AbortSignal.abort("never") }),
    (e) => e === "never",
  );
  // Nothing was started: no client reaches the listener.
  await assert.rejects(listener.accept({ timeout: 200 }), TimeoutError);
});

Deno.test("connectTcp() with no time left times out and starts no connect", async () => {
  using listener = listenTcp();
  await assert.rejects(connectTcp({ port: listener.addr.port, timeout: 0 }), TimeoutError);
  await assert.rejects(listener.accept({ timeout: 200 }), TimeoutError);
});

// Deno.connect made the connection, then threw its signal's abort over it
// when the abort came before its promise settled: nothing could close it.
// The accepted side of every attempt must see its client go (end of stream
// or a reset), never wait on a client socket left open.
Deno.test("connectTcp() aborted as its connect completes leaves no connection open", async () => {
  using listener = listenTcp({ backlog: 512 });
  let aborted = 0;
  for (let i = 0; i < 2000 && aborted < 10; i++) {
    const controller = new AbortController();
    const connecting = connectTcp({ port: listener.addr.port, signal: controller.signal });
    // The kernel completes the loopback handshake meanwhile; the abort then
    // lands in the turn that delivers the connect, before or after it.
    const until = performance.now() + 1;
    while (performance.now() < until) { /* busy: no turn of the event loop */ }
    const timer = setTimeout(() => controller.abort(new Error("stop")), 0);
    const conn = await connecting.catch(() => null);
    clearTimeout(timer);
    if (conn === null) aborted++;
    conn?.close();
    let peer: Conn;
    try {
      peer = await listener.accept({ timeout: 200 });
    } catch (error) {
      if (error instanceof TimeoutError) continue; // cancelled before its SYN left
      throw error;
    }
    using _peer = peer;
    const end = await peer.read(new Uint8Array(1), { timeout: 2000 }).catch((e: unknown) => e);
    assert.ok(
      end === null || (end instanceof ConnectionError && end.code === "reset"),
      `attempt ${i} (${conn === null ? "aborted" : "connected"}): the client stayed open: ${end}`,
    );
  }
  assert.ok(aborted > 0, "no attempt was aborted: the race was not exercised");
});

Deno.test("connectTcp() maps a closed port to ConnectionError refused", async () => {
  const listener = listenTcp();
  const port = listener.addr.port;
  listener.close();
  const err = await connectTcp({ port, timeout: 2000 }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "refused");
  assert.equal(err.message, `Cannot connect to 127.0.0.1:${port}: connection refused`);
  assert.equal((err.cause as Error).name, "ConnectionRefused");
});

Deno.test("connectTcp() maps an unresolvable host to ConnectionError dns", async () => {
  await assert.rejects(connectTcp({ hostname: "no-such-host.invalid", port: 80, timeout: 5000 }), {
    name: "ConnectionError",
    code: "dns",
    address: "no-such-host.invalid:80",
  });
});

Deno.test("connectTcp() rejects a port outside 1-65535 with RangeError", async () => {
  await assert.rejects(connectTcp({ port: 65536 }), {
    name: "RangeError",
    message: 'Cannot connect: port "65536" is not an integer in 1-65535',
  });
  // Port 0 names no server: the runtime's own words were "Invalid port (out of range): 0".
  await assert.rejects(connectTcp({ port: 0 }), {
    name: "RangeError",
    message: 'Cannot connect: port "0" is not an integer in 1-65535',
  });
});

Deno.test("connectTcp() accepts noDelay and keepAlive", async () => {
  using listener = listenTcp();
  using client = await connectTcp({
    port: listener.addr.port,
    noDelay: false,
    keepAlive: true,
    timeout: 2000,
  });
  using server = await listener.accept({ timeout: 2000 });
  await client.write(encoder.encode("k"));
  assert.equal(await server.read(new Uint8Array(1), { timeout: 2000 }), 1);
});

Deno.test("listenTcp() binds 127.0.0.1 on a free port by default", () => {
  using listener = listenTcp();
  assert.equal(listener.transport, "tcp");
  assert.equal(listener.addr.hostname, "127.0.0.1");
  assert.ok(listener.addr.port > 0);
});

Deno.test("listenTcp() throws ConnectionError address-in-use for a taken port", () => {
  using first = listenTcp();
  const err = (() => {
    try {
      listenTcp({ port: first.addr.port }).close();
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "address-in-use");
  assert.equal(err.operation, "listen");
  assert.equal(
    err.message,
    `Cannot listen on 127.0.0.1:${first.addr.port}: address already in use`,
  );
});

Deno.test("listenTcp() with reusePort lets two listeners share a port", async () => {
  using first = listenTcp({ reusePort: true });
  using second = listenTcp({ port: first.addr.port, reusePort: true });
  assert.equal(second.addr.port, first.addr.port);
  // Both are live: connections land on one or the other.
  const clients: Conn[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      clients.push(await connectTcp({ port: first.addr.port, timeout: 2000 }));
    }
    let accepted = 0;
    for (const listener of [first, second]) {
      while (accepted < clients.length) {
        try {
          // Each connection is queued already: 1 s only ends the wait on an empty queue.
          (await listener.accept({ timeout: 1000 })).close();
          accepted++;
        } catch (error) {
          if (error instanceof TimeoutError) break;
          throw error;
        }
      }
    }
    assert.equal(accepted, clients.length);
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("listenTcp() rejects a port outside 0-65535 with RangeError", () => {
  assert.throws(() => listenTcp({ port: -1 }), RangeError);
});

Deno.test({
  name: "connectTcp() throws PermissionDeniedError naming the address when Deno denies the host",
  permissions: { net: ["127.0.0.1:1"] },
  async fn() {
    const err = await connectTcp({ port: 2, timeout: 2000 }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof PermissionDeniedError, String(err));
    assert.equal(err.source, "runtime");
    assert.equal(err.address, "127.0.0.1:2");
    assert.match(err.message, /^Cannot connect to 127\.0\.0\.1:2: permission denied by the Deno/);
    // Deno 2 raises NotCapable; earlier versions raised PermissionDenied.
    const denial = "NotCapable" in Deno.errors ? "NotCapable" : "PermissionDenied";
    assert.equal((err.cause as Error).name, denial);
  },
});

Deno.test({
  name: "listenTcp() throws PermissionDeniedError when Deno denies the address",
  permissions: { net: ["127.0.0.1:1"] },
  fn() {
    assert.throws(() => listenTcp({ port: 0 }).close(), {
      name: "PermissionDeniedError",
      source: "runtime",
      address: "127.0.0.1:0",
    });
  },
});

Deno.test("connectTcp() is denied in a subprocess run with --allow-net for another port", async () => {
  const module = new URL("./tcp.ts", import.meta.url).href;
  const script = `
    import { connectTcp } from ${JSON.stringify(module)};
    try {
      await connectTcp({ port: 2, timeout: 2000 });
      console.log(JSON.stringify({ ok: true }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.name, source: e.source, message: e.message }));
    }
  `;
  // "-" reads the script from stdin; only 127.0.0.1:1 is granted.
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", "--allow-net=127.0.0.1:1", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  using _ = killAfter(child, 30_000);
  const writer = child.stdin.getWriter();
  await writer.write(encoder.encode(script));
  await writer.close();
  const { stdout, stderr, success } = await child.output();
  assert.ok(success, decoder.decode(stderr));
  const result = JSON.parse(decoder.decode(stdout));
  assert.equal(result.name, "PermissionDeniedError");
  assert.equal(result.source, "runtime");
  assert.match(result.message, /^Cannot connect to 127\.0\.0\.1:2: permission denied/);
});

Deno.test("a read cut by AbortSignal.timeout() rejects with our TimeoutError, the DOMException as cause", async () => {
  using listener = listenTcp();
  const accepted = listener.accept();
  await using conn = await connectTcp({ port: listener.addr.port });
  await using _server = await accepted;
  // The peer never writes: only the signal's timeout can end the read.
  const error = await within(
    conn.read(new Uint8Array(8), { signal: AbortSignal.timeout(50) }).catch((e) => e),
    BOUND_MS,
    "the read to be cut",
  );
  assert.ok(error instanceof TimeoutError, `got ${error}`);
  assert.equal(error.operation, "read");
  assert.equal(error.address, `127.0.0.1:${listener.addr.port}`);
  assert.ok(error.cause instanceof DOMException && error.cause.name === "TimeoutError");
  assert.match(error.message, /^Cannot read from 127\.0\.0\.1:\d+: timed out after \d+ ms$/);
});

Deno.test("a signal aborted by AbortSignal.timeout() before a connect rejects with our TimeoutError", async () => {
  using listener = listenTcp();
  const signal = AbortSignal.timeout(0);
  await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  const error = await connectTcp({ port: listener.addr.port, signal }).catch((e) => e);
  assert.ok(error instanceof TimeoutError, `got ${error}`);
  assert.equal(error.operation, "connect");
  assert.equal(error.cause, signal.reason);
});
