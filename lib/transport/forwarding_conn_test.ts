// ForwardingConn over a real loopback TCP connection: every member reaches
// the connection underneath, and an override sees its calls.
import assert from "node:assert/strict";
import { connectTcp, listenTcp } from "./tcp.ts";
import type { Conn, IoOptions } from "./types.ts";
import { ForwardingConn } from "./forwarding_conn.ts";

class CountingConn extends ForwardingConn {
  reads = 0;
  override read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    this.reads++;
    return super.read(buffer, options);
  }
}

/** Everything `conn` reads until end of stream, each read bounded. */
async function readAll(conn: Conn): Promise<Uint8Array> {
  const chunks: number[] = [];
  const buffer = new Uint8Array(1024);
  let n: number | null;
  while ((n = await conn.read(buffer, { timeout: 5000 })) !== null) {
    chunks.push(...buffer.subarray(0, n));
  }
  return new Uint8Array(chunks);
}

Deno.test("ForwardingConn passes reads, writes, half-close, addresses and close to the socket", async () => {
  using listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept({ timeout: 5000 });
  const raw = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  const conn = new CountingConn(raw);
  try {
    assert.equal(conn.transport, "tcp");
    assert.deepEqual(conn.localAddr, raw.localAddr);
    assert.deepEqual(conn.remoteAddr, raw.remoteAddr);
    assert.deepEqual({ ...conn.remoteAddr }, {
      transport: "tcp",
      hostname: "127.0.0.1",
      port: listener.addr.port,
    });
    assert.equal(conn.timings, raw.timings);
    conn.setNoDelay(true);
    conn.setKeepAlive(true);
    // Written through the wrapper, read by the server; half-closed through it.
    const sent = new TextEncoder().encode("through the wrapper");
    await conn.write(sent, { timeout: 5000 });
    await conn.closeWrite();
    assert.deepEqual(await readAll(server), sent);
    // The server's answer read through the wrapper, its reads counted.
    await server.write(new TextEncoder().encode("answer"), { timeout: 5000 });
    await server.closeWrite();
    assert.equal(new TextDecoder().decode(await readAll(conn)), "answer");
    assert.ok(conn.reads >= 2, `${conn.reads} reads`);
    assert.equal(conn.closed, false);
    conn.close();
    assert.equal(conn.closed, true);
    assert.equal(raw.closed, true);
  } finally {
    conn.close();
    server.close();
  }
});

Deno.test("ForwardingConn closes the socket when disposed", async () => {
  using listener = listenTcp({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept({ timeout: 5000 });
  const raw = await connectTcp({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  try {
    {
      using _conn = new ForwardingConn(raw);
    }
    assert.equal(raw.closed, true);
    // The server sees the end of stream.
    assert.equal((await readAll(server)).length, 0);
  } finally {
    server.close();
  }
});
