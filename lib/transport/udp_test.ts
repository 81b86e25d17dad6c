import assert from "node:assert/strict";
import { within } from "../../tests/_support/command.ts";
import { ConnectionError, PermissionDeniedError, TimeoutError } from "../errors.ts";
import { bindUdp, MAX_UDP_PAYLOAD } from "./udp.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("bindUdp() round trips a datagram between two loopback sockets", async () => {
  using server = bindUdp();
  using client = bindUdp();
  await client.send(encoder.encode("ping"), server.addr, { timeout: 2000 });
  const request = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(request.data), "ping");
  assert.deepEqual(
    { hostname: request.from.hostname, port: request.from.port },
    { hostname: "127.0.0.1", port: client.addr.port },
  );
  await server.send(encoder.encode("pong"), request.from, { timeout: 2000 });
  const reply = await client.receive({ timeout: 2000 });
  assert.equal(decoder.decode(reply.data), "pong");
  assert.equal(reply.from.port, server.addr.port);
  assert.equal(typeof reply.receivedAt, "number");
  assert.ok(reply.receivedAt <= performance.now());
});

Deno.test("bindUdp() binds 127.0.0.1 on a free port by default", () => {
  using socket = bindUdp();
  assert.equal(socket.addr.transport, "udp");
  assert.equal(socket.addr.hostname, "127.0.0.1");
  assert.ok(socket.addr.port > 0);
});

Deno.test("bindUdp() works on IPv6 loopback", async () => {
  using server = bindUdp({ hostname: "::1" });
  using client = bindUdp({ hostname: "::1" });
  await client.send(encoder.encode("v6"), server.addr, { timeout: 2000 });
  const { data, from } = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(data), "v6");
  assert.equal(from.hostname, "::1");
});

Deno.test("UdpSocket.send() rejects 65,508 bytes with RangeError before sending anything", async () => {
  using server = bindUdp();
  using client = bindUdp();
  await assert.rejects(
    client.send(new Uint8Array(MAX_UDP_PAYLOAD + 1), server.addr),
    RangeError,
  );
  // Nothing reached the peer: a marker sent afterwards is the first datagram.
  await client.send(encoder.encode("marker"), server.addr, { timeout: 2000 });
  const first = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(first.data), "marker");
});

Deno.test("UdpSocket.send() enforces the limit on IPv6 too, where the kernel would send it", async () => {
  using server = bindUdp({ hostname: "::1" });
  using client = bindUdp({ hostname: "::1" });
  await assert.rejects(
    client.send(new Uint8Array(MAX_UDP_PAYLOAD + 1), server.addr),
    RangeError,
  );
  await client.send(encoder.encode("marker"), server.addr, { timeout: 2000 });
  const first = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(first.data), "marker");
});

Deno.test("UdpSocket.send() names the size and the limit in its RangeError", async () => {
  using client = bindUdp();
  await assert.rejects(
    client.send(new Uint8Array(70_000), { hostname: "127.0.0.1", port: 9 }),
    {
      name: "RangeError",
      message: "Cannot send datagram: 70000 bytes exceed the UDP payload limit of 65507",
    },
  );
});

Deno.test("UdpSocket.send() delivers a 65,507-byte datagram whole", async () => {
  using server = bindUdp();
  using client = bindUdp();
  const payload = new Uint8Array(MAX_UDP_PAYLOAD);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  await client.send(payload, server.addr, { timeout: 2000 });
  const { data } = await server.receive({ timeout: 2000 });
  assert.equal(data.length, MAX_UDP_PAYLOAD);
  assert.deepEqual(data, payload);
});

Deno.test("UdpSocket.send() rejects port 0 with RangeError", async () => {
  using client = bindUdp();
  await assert.rejects(
    client.send(encoder.encode("x"), { hostname: "127.0.0.1", port: 0 }),
    { name: "RangeError", message: /^Cannot send datagram to 127\.0\.0\.1:0: port "0"/ },
  );
});

Deno.test("UdpSocket.send() maps an unresolvable host to ConnectionError dns", async () => {
  using client = bindUdp();
  const err = await client.send(encoder.encode("x"), { hostname: "no-such-host.invalid", port: 9 })
    .then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "dns");
  assert.equal(err.operation, "send");
  assert.equal(err.address, "no-such-host.invalid:9");
});

Deno.test("UdpSocket.receive() times out and the late datagram goes to the next receive", async () => {
  using server = bindUdp();
  using client = bindUdp();
  const err = await within(server.receive({ timeout: 50 }), 5000, "receive to time out")
    .then(() => null, (e: unknown) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.operation, "receive");
  assert.equal(err.address, `127.0.0.1:${server.addr.port}`);
  assert.equal(
    err.message,
    `Cannot receive on 127.0.0.1:${server.addr.port}: timed out after 50 ms`,
  );
  await client.send(encoder.encode("late"), server.addr, { timeout: 2000 });
  const { data } = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(data), "late");
});

Deno.test("UdpSocket.receive() honours an absolute deadline", async () => {
  using server = bindUdp();
  await assert.rejects(server.receive({ deadline: Date.now() + 30 }), TimeoutError);
});

Deno.test("UdpSocket.receive() rejects with the signal's reason and keeps the datagram", async () => {
  using server = bindUdp();
  using client = bindUdp();
  const controller = new AbortController();
  const reason = new Error("stop waiting");
  const receiving = server.receive({ signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(receiving, (e) => e === reason);
  await client.send(encoder.encode("kept"), server.addr, { timeout: 2000 });
  const { data } = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(data), "kept");
});

Deno.test("UdpSocket.receive() rejects at once when the signal is already aborted", async () => {
  using server = bindUdp();
  const signal = AbortSignal.abort("gone");
  await assert.rejects(server.receive({ signal }), (e) => e === "gone");
});

Deno.test("UdpSocket.receive() rejects a negative timeout with RangeError", async () => {
  using server = bindUdp();
  await assert.rejects(server.receive({ timeout: -1 }), RangeError);
});

Deno.test("UdpSocket.receive() gives each datagram a buffer of its own", async () => {
  using server = bindUdp();
  using client = bindUdp();
  await client.send(encoder.encode("first"), server.addr, { timeout: 2000 });
  const first = await server.receive({ timeout: 2000 });
  await client.send(encoder.encode("SECOND!"), server.addr, { timeout: 2000 });
  const second = await server.receive({ timeout: 2000 });
  assert.equal(decoder.decode(first.data), "first");
  assert.equal(decoder.decode(second.data), "SECOND!");
  assert.notEqual(first.data.buffer, second.data.buffer);
  assert.equal(first.data.buffer.byteLength, 5);
});

Deno.test("UdpSocket.receive() sorts many datagrams from several senders by their source", async () => {
  const senders = 4;
  const perSender = 50;
  using server = bindUdp();
  const clients = Array.from({ length: senders }, () => bindUdp());
  try {
    const portToIndex = new Map(clients.map((c, i) => [c.addr.port, i]));
    for (let seq = 0; seq < perSender; seq++) {
      await Promise.all(
        clients.map((c, i) =>
          c.send(encoder.encode(`${i}:${seq}`), server.addr, { timeout: 2000 })
        ),
      );
      // Drain as we go so the kernel's receive buffer never overflows.
      for (let i = 0; i < senders; i++) {
        const { data, from } = await server.receive({ timeout: 2000 });
        const [index] = decoder.decode(data).split(":");
        assert.equal(from.hostname, "127.0.0.1");
        assert.equal(portToIndex.get(from.port), Number(index));
      }
    }
  } finally {
    for (const c of clients) c.close();
  }
});

Deno.test("UdpSocket.receive() called concurrently gives each call its own datagram", async () => {
  using server = bindUdp();
  using client = bindUdp();
  const a = server.receive({ timeout: 2000 });
  const b = server.receive({ timeout: 2000 });
  await client.send(encoder.encode("one"), server.addr, { timeout: 2000 });
  await client.send(encoder.encode("two"), server.addr, { timeout: 2000 });
  const got = (await Promise.all([a, b])).map((d) => decoder.decode(d.data)).sort();
  assert.deepEqual(got, ["one", "two"]);
});

Deno.test("UdpSocket iteration yields datagrams until the socket is closed", async () => {
  const server = bindUdp();
  using client = bindUdp();
  const seen: string[] = [];
  let gotThree: () => void = () => {};
  const three = new Promise<void>((resolve) => gotThree = resolve);
  const loop = (async () => {
    for await (const { data } of server) {
      seen.push(decoder.decode(data));
      if (seen.length === 3) gotThree();
    }
  })();
  for (const word of ["a", "b", "c"]) {
    await client.send(encoder.encode(word), server.addr, { timeout: 2000 });
  }
  await three;
  // The loop is now waiting in a receive; closing ends it cleanly.
  server.close();
  await loop;
  assert.deepEqual(seen, ["a", "b", "c"]);
  assert.equal(server.closed, true);
});

Deno.test("UdpSocket.receive() pending during close rejects with ConnectionError closed", async () => {
  const server = bindUdp();
  const receiving = server.receive();
  server.close();
  const err = await receiving.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ConnectionError, String(err));
  assert.equal(err.code, "closed");
  assert.equal(err.operation, "receive");
});

Deno.test("UdpSocket.receive() after close rejects with ConnectionError closed", async () => {
  const server = bindUdp();
  const port = server.addr.port;
  server.close();
  server.close();
  await assert.rejects(server.receive(), {
    name: "ConnectionError",
    code: "closed",
    message: `Cannot receive on 127.0.0.1:${port}: connection closed`,
  });
});

Deno.test("UdpSocket.send() after close rejects with ConnectionError closed", async () => {
  const client = bindUdp();
  client.close();
  await assert.rejects(client.send(encoder.encode("x"), { hostname: "127.0.0.1", port: 9 }), {
    name: "ConnectionError",
    code: "closed",
    operation: "send",
  });
});

Deno.test("bindUdp() throws ConnectionError address-in-use for a taken port", () => {
  using first = bindUdp();
  assert.throws(() => bindUdp({ port: first.addr.port }), {
    name: "ConnectionError",
    code: "address-in-use",
    message: `Cannot listen on 127.0.0.1:${first.addr.port}: address already in use`,
  });
});

Deno.test("bindUdp() with reuseAddress binds a port another reusing socket holds", () => {
  using first = bindUdp({ reuseAddress: true });
  using second = bindUdp({ port: first.addr.port, reuseAddress: true });
  assert.equal(second.addr.port, first.addr.port);
});

Deno.test("bindUdp() rejects a port outside 0-65535 with RangeError", () => {
  assert.throws(() => bindUdp({ port: 70_000 }), RangeError);
});

Deno.test({
  name: "bindUdp() throws PermissionDeniedError from the runtime without net permission",
  permissions: { net: ["127.0.0.1:1"] },
  fn() {
    let err: unknown;
    try {
      bindUdp({ port: 0 }).close();
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof PermissionDeniedError, String(err));
    assert.equal(err.source, "runtime");
    assert.match(err.message, /^Cannot listen on 127\.0\.0\.1:0: permission denied by the Deno/);
  },
});
