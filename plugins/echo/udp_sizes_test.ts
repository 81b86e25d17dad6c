// The UDP echo on both I/O paths (the runtime's sockets and libc through
// FFI), at the edges of a datagram's size, and with senders that vanish:
// each path echoes and counts the same.
import assert from "node:assert/strict";
import { bindUdp } from "../../lib/transport/udp.ts";
import { startEchoServer } from "./mod.ts";

for (const io of ["deno", "libc"] as const) {
  Deno.test(`the udp echo returns an empty datagram and the largest one, byte for byte (io ${io})`, async () => {
    const server = await startEchoServer({ transport: "udp", io });
    try {
      using client = bindUdp();
      const to = server.address as Deno.NetAddr;
      const largest = new Uint8Array(65_507).map((_, i) => i % 251);
      for (const data of [new Uint8Array(0), largest, new Uint8Array([7])]) {
        await client.send(data, to, { timeout: 5000 });
        const reply = await client.receive({ timeout: 5000 });
        assert.equal(reply.data.length, data.length);
        assert.deepEqual(reply.data, data);
      }
      assert.deepEqual(server.stats(), {
        datagrams: 3,
        errors: 0,
        bytes_in: 65_508,
        bytes_out: 65_508,
      });
    } finally {
      await server.close();
    }
  });

  Deno.test(`the udp echo goes on answering after senders that vanished (io ${io})`, async () => {
    const server = await startEchoServer({ transport: "udp", io });
    try {
      const to = server.address as Deno.NetAddr;
      // Ten senders that close before their echo: the echo's ICMP errors must not stop it.
      for (let i = 0; i < 10; i++) {
        using gone = bindUdp();
        await gone.send(new Uint8Array([i]), to, { timeout: 5000 });
      }
      using client = bindUdp();
      await client.send(new Uint8Array([42]), to, { timeout: 5000 });
      const reply = await client.receive({ timeout: 5000 });
      assert.deepEqual(reply.data, new Uint8Array([42]));
      assert.equal(server.stats().datagrams, 11);
    } finally {
      await server.close();
    }
  });
}
