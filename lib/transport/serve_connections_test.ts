import assert from "node:assert/strict";
import { ConnectionError } from "../errors.ts";
import { serveConnections } from "./serve_connections.ts";
import { connectTcp, listenTcp } from "./tcp.ts";
import type { Conn, Listener } from "./types.ts";

const encoder = new TextEncoder();

function port(listener: { addr: Deno.Addr }): number {
  return (listener.addr as Deno.NetAddr).port;
}

/** Reads until end of stream or error; what ended it. */
async function readToEnd(conn: Conn): Promise<"eof" | string> {
  const buf = new Uint8Array(1024);
  try {
    while (await conn.read(buf, { timeout: 5000 }) !== null) {
      // Discarded.
    }
    return "eof";
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).name;
  }
}

/** Polls `check` every 10 ms until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A handler that echoes until the peer closes. */
async function echo(conn: Conn): Promise<void> {
  const buf = new Uint8Array(1024);
  let n: number | null;
  while ((n = await conn.read(buf)) !== null) await conn.write(buf.subarray(0, n));
}

Deno.test("serveConnections() refuses connections beyond maxConnections at once and serves again below", async () => {
  const server = serveConnections(listenTcp(), echo, { maxConnections: 2 });
  try {
    const a = await connectTcp({ port: port(server), timeout: 5000 });
    const b = await connectTcp({ port: port(server), timeout: 5000 });
    for (const conn of [a, b]) {
      await conn.write(encoder.encode("x"));
      assert.equal(await conn.read(new Uint8Array(1), { timeout: 5000 }), 1);
    }
    using c = await connectTcp({ port: port(server), timeout: 5000 });
    assert.equal(await readToEnd(c), "eof");
    assert.equal(server.stats().rejected, 1);
    a.close();
    await waitFor(() => server.stats().active === 1);
    using d = await connectTcp({ port: port(server), timeout: 5000 });
    await d.write(encoder.encode("y"));
    assert.equal(await d.read(new Uint8Array(1), { timeout: 5000 }), 1);
    b.close();
    const stats = server.stats();
    assert.equal(stats.accepted, 4);
    assert.equal(stats.rejected, 1);
  } finally {
    await server.close();
  }
});

Deno.test("serveConnections() closes an idle connection and keeps a busy one", async () => {
  // An idle timeout beyond the stalls of a loaded machine (a stalled
  // exchange is idleness to the server), and 2 s of exchanges past it.
  const server = serveConnections(listenTcp(), echo, { idleTimeout: 1500 });
  try {
    using idle = await connectTcp({ port: port(server), timeout: 5000 });
    using busy = await connectTcp({ port: port(server), timeout: 5000 });
    const ended = readToEnd(idle);
    // The busy one exchanges a byte every 50 ms for longer than the idle timeout.
    for (let i = 0; i < 40; i++) {
      await busy.write(encoder.encode("b"));
      assert.equal(await busy.read(new Uint8Array(1), { timeout: 5000 }), 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await ended, "eof");
    assert.equal(server.stats().idle_closed, 1);
    assert.equal(server.stats().active, 1);
  } finally {
    await server.close();
  }
});

Deno.test("serveConnections() counts reads alone, and writes alone, as activity", async () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // A sink only reads; a source only writes: neither is idle while bytes flow.
  const server = serveConnections(listenTcp(), async (conn) => {
    const buf = new Uint8Array(1);
    if (await conn.read(buf) === null) return;
    if (buf[0] === 0x73) {
      while (await conn.read(buf) !== null) {
        // Discarded.
      }
      return;
    }
    for (let i = 0; i < 40; i++) {
      await conn.write(encoder.encode("o"));
      await sleep(50);
    }
    // An idle timeout beyond the stalls of a loaded machine, 2 s of bytes past it.
  }, { idleTimeout: 1500 });
  try {
    using sink = await connectTcp({ port: port(server), timeout: 5000 });
    using source = await connectTcp({ port: port(server), timeout: 5000 });
    await sink.write(encoder.encode("s"));
    await source.write(encoder.encode("w"));
    const got = new Uint8Array(1);
    for (let i = 0; i < 40; i++) {
      await sink.write(encoder.encode("i"));
      assert.equal(await source.read(got, { timeout: 5000 }), 1);
      await sleep(50);
    }
    assert.equal(server.stats().idle_closed, 0);
  } finally {
    await server.close();
  }
});

Deno.test("serveConnections() closes a connection past the deadline its handler set", async () => {
  let reason: string | undefined;
  const server = serveConnections(listenTcp(), async (conn, connection) => {
    connection.setDeadline(100);
    try {
      await conn.read(new Uint8Array(16));
    } finally {
      reason = connection.closeReason;
    }
  });
  try {
    using conn = await connectTcp({ port: port(server), timeout: 5000 });
    assert.equal(await readToEnd(conn), "eof");
    await waitFor(() => server.stats().active === 0);
    assert.equal(reason, "deadline");
    assert.equal(server.stats().deadline_closed, 1);
    // Closed on purpose: not a handler error.
    assert.equal(server.stats().handler_errors, 0);
  } finally {
    await server.close();
  }
});

Deno.test("serveConnections() close() lets handlers finish within drainTimeout and reports the ones it aborted", async () => {
  let finished = 0;
  const server = serveConnections(listenTcp(), async (conn, connection) => {
    const buf = new Uint8Array(1);
    if (await conn.read(buf) === null) return;
    if (buf[0] === 0x66) {
      // "f": finishes its answer once told to stop.
      if (!connection.signal.aborted) {
        await new Promise((resolve) => connection.signal.addEventListener("abort", resolve));
      }
      await conn.write(encoder.encode("done"));
      finished++;
      return;
    }
    await conn.read(buf); // "s": stuck until closed
    // Long enough that a stalled machine does not abort the finishing one too.
  }, { drainTimeout: 2000 });
  using finishing = await connectTcp({ port: port(server), timeout: 5000 });
  using stuck = await connectTcp({ port: port(server), timeout: 5000 });
  await finishing.write(encoder.encode("f"));
  await stuck.write(encoder.encode("s"));
  await waitFor(() => server.stats().active === 2);
  const report = await server.close();
  assert.equal(report.aborted, 1);
  assert.equal(finished, 1);
  const buf = new Uint8Array(4);
  assert.equal(await finishing.read(buf, { timeout: 5000 }), 4);
  assert.equal(await readToEnd(stuck), "eof");
  // The listener is closed: nothing accepts any more.
  await assert.rejects(
    () => connectTcp({ port: port(server), timeout: 5000 }),
    (e: unknown) => e instanceof ConnectionError && e.code === "refused",
  );
  assert.deepEqual(await server.close(), report);
});

Deno.test("serveConnections() closes when its signal aborts", async () => {
  const controller = new AbortController();
  const server = serveConnections(listenTcp(), echo, {
    signal: controller.signal,
    drainTimeout: 0,
  });
  using conn = await connectTcp({ port: port(server), timeout: 5000 });
  await waitFor(() => server.stats().active === 1);
  controller.abort();
  assert.equal(await readToEnd(conn), "eof");
  assert.deepEqual(await server.close(), { aborted: 1 });
});

Deno.test("serveConnections() backs off on failing accepts, says so once per run, and goes on", async () => {
  // A listener whose accept fails like a process out of file descriptors,
  // five times, then hands over real connections.
  const real = listenTcp();
  let failing = 5;
  let calls = 0;
  const listener: Listener = {
    transport: "tcp",
    addr: real.addr,
    accept: (options) => {
      calls++;
      if (failing > 0) {
        failing--;
        return Promise.reject(
          new ConnectionError({
            code: "other",
            operation: "accept",
            address: "x",
            detail: "EMFILE",
          }),
        );
      }
      return real.accept(options);
    },
    close: () => real.close(),
    [Symbol.dispose]: () => real.close(),
    [Symbol.asyncIterator]: () => real[Symbol.asyncIterator](),
  };
  const reported: number[] = [];
  const started = performance.now();
  const server = serveConnections(listener, echo, {
    onAcceptError: (_error, failures) => reported.push(failures),
  });
  try {
    using conn = await connectTcp({ port: port(server), timeout: 5000 });
    await conn.write(encoder.encode("z"));
    assert.equal(await conn.read(new Uint8Array(1), { timeout: 5000 }), 1);
    assert.deepEqual(reported, [1, 2, 3, 4, 5]);
    assert.equal(server.stats().accept_errors, 5);
    // Five failures, the accept that worked, the one waiting now.
    assert.equal(calls, 7);
    // Backing off (10+20+40+80+160 ms) rather than retrying at once.
    assert.ok(performance.now() - started >= 300, "the five retries did not back off");
  } finally {
    await server.close();
  }
});

Deno.test("serveConnections() refuses bad limits", () => {
  using listener = listenTcp();
  for (const options of [{ maxConnections: 0 }, { idleTimeout: -1 }, { drainTimeout: 1.5 }]) {
    assert.throws(() => serveConnections(listener, echo, options), RangeError);
  }
});

Deno.test("serveConnections() pause() is not idleness, and close() cuts it short", async () => {
  let paused = 0;
  const server = serveConnections(listenTcp(), async (conn, connection) => {
    const buf = new Uint8Array(1);
    if (await conn.read(buf) === null) return;
    // Three times the idle timeout: the connection must survive it.
    await connection.pause(600);
    paused++;
    await conn.write(encoder.encode("r"));
    // Then a pause far beyond the test: only close() ends it.
    await connection.pause(3_600_000);
  }, { idleTimeout: 200, drainTimeout: 60_000 });
  using conn = await connectTcp({ port: port(server), timeout: 5000 });
  await conn.write(encoder.encode("q"));
  assert.equal(await conn.read(new Uint8Array(1), { timeout: 5000 }), 1);
  assert.equal(paused, 1);
  assert.equal(server.stats().idle_closed, 0);
  // Resolves although the handler sleeps for an hour and the drain allows a minute.
  assert.deepEqual(await server.close(), { aborted: 0 });
});
