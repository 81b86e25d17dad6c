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

Deno.test("ResponseReader reads heads and bodies larger than its first buffer, whatever the reads' sizes", async () => {
  using listener = listenTcp();
  // A 40 KiB head, then bodies of each framing, larger than the buffer a
  // reader starts with (it grows while reads fill it).
  const fields = Array.from({ length: 800 }, (_, i) => `X-F${i}: ${"v".repeat(40)}\r\n`).join("");
  const body = (n: number, seed: number) =>
    Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  const sized = body(200_000, 1);
  const chunkedParts = [body(10_000, 2), body(70_000, 3), body(1, 4), body(33_333, 5)];
  const closing = body(150_000, 6);
  const chunked = chunkedParts.flatMap((
    part,
  ) => [encoder.encode(`${part.length.toString(16)}\r\n`), part, encoder.encode("\r\n")]);
  const responses = [
    [encoder.encode(`HTTP/1.1 200 OK\r\n${fields}Content-Length: ${sized.length}\r\n\r\n`), sized],
    [
      encoder.encode(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n`),
      ...chunked,
      encoder.encode("0\r\n\r\n"),
    ],
    [encoder.encode(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n`), closing],
  ].map((parts) => {
    const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
    parts.reduce((at, part) => (all.set(part, at), at + part.length), 0);
    return all;
  });
  const serving = (async () => {
    using peer = await listener.accept({ timeout: 5000 });
    // One response after each request byte, in odd pieces: heads, sizes and
    // chunk lines straddle reads.
    for (const all of responses) {
      await peer.read(new Uint8Array(1), { timeout: 5000 });
      for (let at = 0, i = 0; at < all.length; i++) {
        const n = [1, 7_777, 16_383, 40_000, 3, 65_537][i % 6];
        await peer.write(all.subarray(at, at + n), { timeout: 5000 });
        at += n;
      }
    }
  })();
  using conn = await connectTcp({ port: listener.addr.port, timeout: 5000 });
  const reader = new ResponseReader(conn, "test");
  const digest = async (expected: Uint8Array) => {
    const got: Uint8Array[] = [];
    await conn.write(encoder.encode("?"), { timeout: 5000 });
    const head = await reader.readHead(65536);
    const result = await reader.readBody(
      bodyFraming(head, "GET", "test"),
      (chunk) => void got.push(chunk.slice()),
      1 << 20,
      1024,
    );
    const joined = new Uint8Array(got.reduce((n, c) => n + c.length, 0));
    got.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
    assert.equal(result.bytes, expected.length);
    assert.deepEqual(joined, expected);
    return head;
  };
  const first = await digest(sized);
  assert.equal(Object.keys(first.headers).filter((k) => k.startsWith("x-f")).length, 800);
  assert.equal(first.headers["x-f799"], "v".repeat(40));
  const joinedChunks = new Uint8Array(chunkedParts.reduce((n, c) => n + c.length, 0));
  chunkedParts.reduce((at, c) => (joinedChunks.set(c, at), at + c.length), 0);
  await digest(joinedChunks);
  await digest(closing);
  await serving;
});
