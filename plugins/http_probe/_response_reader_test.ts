// ResponseReader over a real loopback connection: a head byte for byte the
// same as the last one on the connection is not parsed again.
import assert from "node:assert/strict";
import { connectTcp, listenTcp } from "../../lib/transport/mod.ts";
import { bodyFraming, ResponseReader } from "./_response_reader.ts";

const encoder = new TextEncoder();

Deno.test("ResponseReader.readHead() returns the same frozen head for the same bytes, a new one for others", async () => {
  using listener = listenTcp();
  const heads = [
    "HTTP/1.1 200 OK\r\nX-Seq: a\r\nSet-Cookie: s=1\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 200 OK\r\nX-Seq: a\r\nSet-Cookie: s=1\r\nContent-Length: 2\r\n\r\nok",
    // Same length, one byte different.
    "HTTP/1.1 200 OK\r\nX-Seq: b\r\nSet-Cookie: s=1\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/1.1 500 OK\r\nX-Seq: b\r\nSet-Cookie: s=1\r\nContent-Length: 2\r\n\r\nok",
    // The first head again: only the last head is kept.
    "HTTP/1.1 200 OK\r\nX-Seq: a\r\nSet-Cookie: s=1\r\nContent-Length: 2\r\n\r\nok",
    // A longer head starting with the same bytes as the last one.
    "HTTP/1.1 200 OK\r\nX-Seq: a\r\nSet-Cookie: s=1\r\nContent-Length: 2\r\nX-More: 1\r\n\r\nok",
  ];
  const serving = (async () => {
    using peer = await listener.accept({ timeout: 5000 });
    // One response at a time, each written after the last was read.
    for (const head of heads) {
      await peer.read(new Uint8Array(16), { timeout: 5000 });
      await peer.write(encoder.encode(head), { timeout: 5000 });
    }
  })();
  using conn = await connectTcp({ port: listener.addr.port, timeout: 5000 });
  const reader = new ResponseReader(conn, "test");
  const read = [];
  for (let i = 0; i < heads.length; i++) {
    await conn.write(encoder.encode("?"), { timeout: 5000 });
    assert.ok(await reader.ready());
    const head = await reader.readHead(65536);
    const body = await reader.readBody(bodyFraming(head, "GET", "test"), () => {}, 1024, 1024);
    assert.equal(body.bytes, 2);
    read.push(head);
  }
  await serving;
  assert.deepEqual(read.map((h) => [h.status, h.headers["x-seq"], h.headers["x-more"]]), [
    [200, "a", undefined],
    [200, "a", undefined],
    [200, "b", undefined],
    [500, "b", undefined],
    [200, "a", undefined],
    [200, "a", "1"],
  ]);
  assert.equal(read[1], read[0], "the same bytes give the same head");
  assert.notEqual(read[2], read[1]);
  assert.notEqual(read[4], read[0], "only the last head is kept");
  for (const head of read) {
    assert.ok(Object.isFrozen(head) && Object.isFrozen(head.headers));
    assert.ok(Object.isFrozen(head.headers["set-cookie"]));
  }
});
