import assert from "node:assert/strict";
import { ConnectionError } from "../../lib/errors.ts";
import { bindUdp, type UdpSocket } from "../../lib/transport/udp.ts";
import { runUdpPingClient, startUdpPingServer } from "./mod.ts";

// Every test runs on both I/O paths: the runtime's sockets and libc through FFI.
for (const io of ["deno", "libc"] as const) {
  Deno.test(`serveUdpPing() says its I/O path in its facts (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      assert.deepEqual({ ...server.facts }, { io });
    } finally {
      await server.close();
    }
  });

  Deno.test(`serveUdpPing() echoes each datagram to its own sender, byte for byte (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const to = server.address as Deno.NetAddr;
      using a = bindUdp();
      using b = bindUdp();
      const big = crypto.getRandomValues(new Uint8Array(60_000));
      await a.send(new Uint8Array([1, 2, 3]), to);
      await b.send(big, to);
      assert.deepEqual((await a.receive({ timeout: 2000 })).data, new Uint8Array([1, 2, 3]));
      assert.deepEqual((await b.receive({ timeout: 2000 })).data, big);
      await a.send(new Uint8Array(0), to);
      assert.equal((await a.receive({ timeout: 2000 })).data.length, 0);
      assert.deepEqual(server.stats(), {
        datagrams_in: 3,
        datagrams_out: 3,
        bytes_in: 60_003,
        bytes_out: 60_003,
        send_errors: 0,
        warm_up_in: 0,
        // Counted on libc only (the runtime's sockets give no count to a plugin).
        ...(io === "libc" ? { receive_drops: 0 } : {}),
      });
    } finally {
      await server.close();
    }
  });

  Deno.test(`serveUdpPing() still answers pings after a flood of 20,000 datagrams (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    try {
      const to = server.address as Deno.NetAddr;
      {
        // The flood's echoes pile up unread in this socket until it closes.
        using flood = bindUdp();
        const payload = new Uint8Array(64);
        for (let i = 0; i < 20_000; i++) await flood.send(payload, to);
      }
      const outcome = await runUdpPingClient({
        io,
        target: `127.0.0.1:${to.port}`,
        count: 3,
        intervalMs: 10,
        timeoutMs: 5000,
      });
      assert.equal(outcome.metrics.received, 3);
      const stats = server.stats();
      assert.ok(stats.datagrams_in >= 3 && stats.datagrams_in <= 20_003, `${stats.datagrams_in}`);
    } finally {
      await server.close();
    }
  });

  Deno.test(`serveUdpPing() close() frees the port and is idempotent (io ${io})`, async () => {
    const server = await startUdpPingServer({ io });
    const { port } = server.address as Deno.NetAddr;
    await Promise.all([server.close(), server.close()]);
    using again = bindUdp({ port });
    assert.equal(again.addr.port, port);
  });

  Deno.test(`serveUdpPing() closes when the run's signal aborts (io ${io})`, async () => {
    const controller = new AbortController();
    const server = await startUdpPingServer({ io }, { signal: controller.signal });
    const { port } = server.address as Deno.NetAddr;
    controller.abort();
    // The runtime frees the port once the pending receive is cancelled: retry, bounded.
    let again: UdpSocket | undefined;
    for (let attempt = 0; attempt < 100 && !again; attempt++) {
      try {
        again = bindUdp({ port });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      assert.equal(again?.addr.port, port);
    } finally {
      again?.close();
      await server.close();
    }
  });

  Deno.test(`serveUdpPing() fails with address-in-use on a taken port (io ${io})`, async () => {
    using taken = bindUdp();
    await assert.rejects(startUdpPingServer({ port: taken.addr.port, io }), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.code, "address-in-use");
      return true;
    });
  });
}

Deno.test({
  name: "serveUdpPing() without FFI: auto echoes on the runtime's sockets, libc is refused",
  permissions: { net: true, read: true },
  async fn() {
    const server = await startUdpPingServer({ io: "auto" });
    try {
      using client = bindUdp();
      await client.send(new Uint8Array([9]), server.address as Deno.NetAddr);
      assert.deepEqual((await client.receive({ timeout: 2000 })).data, new Uint8Array([9]));
    } finally {
      await server.close();
    }
    await assert.rejects(
      startUdpPingServer({ io: "libc" }),
      RangeError,
      'io "libc" is not available: ffi is not granted',
    );
  },
});

Deno.test({
  name: "serveUdpPing() with FFI but its Worker unreadable: auto echoes on the runtime's sockets",
  permissions: { net: true, ffi: true, read: false },
  async fn() {
    const server = await startUdpPingServer({ io: "auto" });
    try {
      using client = bindUdp();
      await client.send(new Uint8Array([4]), server.address as Deno.NetAddr);
      assert.deepEqual((await client.receive({ timeout: 2000 })).data, new Uint8Array([4]));
    } finally {
      await server.close();
    }
    await assert.rejects(
      startUdpPingServer({ io: "libc" }),
      RangeError,
      "_libc_udp_echo_worker.ts\" (the Worker's module)",
    );
  },
});

Deno.test({
  name: "serveUdpPing() with io auto says libc where FFI is granted, deno and why where it is not",
  permissions: { net: true, read: true, env: true, sys: true, ffi: false },
  async fn() {
    const server = await startUdpPingServer({ io: "auto" });
    try {
      assert.equal(server.facts?.io, "deno");
      assert.match(server.facts?.fallback ?? "", /^from libc: ffi is not granted for libc's path/);
    } finally {
      await server.close();
    }
  },
});
