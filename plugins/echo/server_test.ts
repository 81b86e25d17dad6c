import assert from "node:assert/strict";
import { ParamsError } from "../../lib/plugin/mod.ts";
import { connectTcp } from "../../lib/transport/tcp.ts";
import { connectTls } from "../../lib/transport/tls.ts";
import type { Conn } from "../../lib/transport/types.ts";
import { bindUdp } from "../../lib/transport/udp.ts";
import { connectUnix } from "../../lib/transport/unix.ts";
import { makeCertificates } from "../../tests/_support/certs.ts";
import { startEchoServer } from "./mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Polls `check` every 10 ms until it holds, for at most `ms`. */
async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`Condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Writes `text`, half-closes, and reads until the server closes. */
async function exchange(conn: Conn, text: string): Promise<string> {
  await conn.write(encoder.encode(text), { timeout: 5000 });
  await conn.closeWrite();
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(1024);
  while (true) {
    const n = await conn.read(buf, { timeout: 5000 });
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  return decoder.decode(new Uint8Array(chunks.flatMap((c) => [...c])));
}

function port(address: Deno.Addr): number {
  return (address as Deno.NetAddr).port;
}

Deno.test("startEchoServer() echoes over tcp and closes after the peer does", async () => {
  const server = await startEchoServer({});
  try {
    using conn = await connectTcp({ port: port(server.address), timeout: 5000 });
    assert.equal(await exchange(conn, "hello, echo"), "hello, echo");
    await waitFor(() => server.stats().active === 0);
    const stats = server.stats();
    assert.equal(stats.connections, 1);
    assert.equal(stats.bytes_in, 11);
    assert.equal(stats.bytes_out, 11);
    assert.equal(stats.errors, 0);
  } finally {
    await server.close();
  }
});

Deno.test("startEchoServer() echoes over unix in a temporary directory it removes", async () => {
  const server = await startEchoServer({ transport: "unix" });
  const path = (server.address as Deno.UnixAddr).path;
  try {
    using conn = await connectUnix({ path, timeout: 5000 });
    assert.equal(await exchange(conn, "over unix"), "over unix");
  } finally {
    await server.close();
  }
  await assert.rejects(Deno.lstat(path.slice(0, path.lastIndexOf("/"))), Deno.errors.NotFound);
});

Deno.test("startEchoServer() listens on a given unix path and removes the socket", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/given.sock`;
  try {
    const server = await startEchoServer({ transport: "unix", path });
    try {
      assert.equal((server.address as Deno.UnixAddr).path, path);
      using conn = await connectUnix({ path, timeout: 5000 });
      assert.equal(await exchange(conn, "x"), "x");
    } finally {
      await server.close();
    }
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const tlsServer of ["deno", "node"] as const) {
  Deno.test(`startEchoServer() echoes over tls (tlsServer ${tlsServer})`, async () => {
    await using certs = await makeCertificates();
    const server = await startEchoServer({
      transport: "tls",
      cert: certs.certFile,
      key: certs.keyFile,
      tlsServer,
    });
    try {
      using conn = await connectTls({
        port: port(server.address),
        caCerts: [certs.caCert],
        servername: "localhost",
        timeout: 5000,
      });
      assert.equal(await exchange(conn, "secret"), "secret");
      await waitFor(() => server.stats().active === 0);
      assert.equal(server.stats().aborted, 0);
      assert.equal(server.stats().bytes_out, 6);
    } finally {
      await server.close();
    }
  });
}

Deno.test("startEchoServer() rejects tls without a certificate as a params error", async () => {
  await assert.rejects(
    startEchoServer({ transport: "tls" }),
    (error: unknown) => {
      assert.ok(error instanceof ParamsError);
      assert.match(error.message, /"cert" is required for transport "tls"/);
      return true;
    },
  );
});

// UDP runs on both I/O paths: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  Deno.test(`startEchoServer() sends every udp datagram back to its sender (io ${io})`, async () => {
    const server = await startEchoServer({ transport: "udp", io });
    try {
      using client = bindUdp();
      const to = server.address as Deno.NetAddr;
      for (const text of ["one", "two", "three"]) {
        await client.send(encoder.encode(text), to, { timeout: 5000 });
        const reply = await client.receive({ timeout: 5000 });
        assert.equal(decoder.decode(reply.data), text);
        assert.equal(reply.from.port, to.port);
      }
      assert.deepEqual(server.stats(), { datagrams: 3, errors: 0, bytes_in: 11, bytes_out: 11 });
      // The service says which path echoed (`wiretest serve` prints it).
      assert.deepEqual({ ...server.facts }, { io });
    } finally {
      await server.close();
    }
  });
}

Deno.test("startEchoServer() closes connections idle for idleTimeoutMs", async () => {
  const server = await startEchoServer({ idleTimeoutMs: 100 });
  try {
    using idle = await connectTcp({ port: port(server.address), timeout: 5000 });
    // Closed by the server (null), not a read timeout (TimeoutError), and counted as idle.
    assert.equal(await idle.read(new Uint8Array(8), { timeout: 5000 }), null);
    await waitFor(() => server.stats().active === 0);
    assert.equal(server.stats().idle_closed, 1);
    assert.equal(server.stats().errors, 0);
  } finally {
    await server.close();
  }
});

Deno.test("startEchoServer() keeps idle connections open when idleTimeoutMs is 0", async () => {
  const server = await startEchoServer({ idleTimeoutMs: 0 });
  try {
    using conn = await connectTcp({ port: port(server.address), timeout: 5000 });
    await assert.rejects(conn.read(new Uint8Array(8), { timeout: 300 }), { name: "TimeoutError" });
    // Accepted (on a loaded machine, maybe only after those 300 ms), and kept.
    await waitFor(() => server.stats().active === 1);
    assert.equal(await exchange(conn, "still here"), "still here");
  } finally {
    await server.close();
  }
});

Deno.test("startEchoServer() refuses connections beyond maxConnections", async () => {
  const server = await startEchoServer({ maxConnections: 1 });
  try {
    using first = await connectTcp({ port: port(server.address), timeout: 5000 });
    await waitFor(() => server.stats().active === 1);
    using second = await connectTcp({ port: port(server.address), timeout: 5000 });
    assert.equal(await second.read(new Uint8Array(8), { timeout: 5000 }), null);
    assert.equal(server.stats().rejected, 1);
    assert.equal(await exchange(first, "first"), "first");
  } finally {
    await server.close();
  }
});

Deno.test("close() closes open connections and resolves when their tasks end", async () => {
  const server = await startEchoServer({ idleTimeoutMs: 0 });
  const conns = await Promise.all(
    [1, 2, 3].map(() => connectTcp({ port: port(server.address), timeout: 5000 })),
  );
  try {
    await conns[0].write(encoder.encode("ab"));
    assert.equal(await conns[0].read(new Uint8Array(2), { timeout: 5000 }), 2);
    await waitFor(() => server.stats().active === 3);
    await server.close();
    assert.equal(server.stats().active, 0);
    for (const conn of conns) {
      const n = await conn.read(new Uint8Array(8), { timeout: 5000 }).catch(() => null);
      assert.equal(n, null);
    }
    await assert.rejects(connectTcp({ port: port(server.address), timeout: 5000 }), {
      code: "refused",
    });
  } finally {
    for (const conn of conns) conn.close();
    await server.close();
  }
});

Deno.test("startEchoServer() closes when its run signal aborts", async () => {
  const controller = new AbortController();
  const server = await startEchoServer({}, { signal: controller.signal });
  using conn = await connectTcp({ port: port(server.address), timeout: 5000 });
  await waitFor(() => server.stats().active === 1);
  controller.abort();
  assert.equal(await conn.read(new Uint8Array(8), { timeout: 5000 }).catch(() => null), null);
  await server.close();
  assert.equal(server.stats().active, 0);
});
