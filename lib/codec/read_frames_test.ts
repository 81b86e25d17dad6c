import assert from "node:assert/strict";
import { ConnectionError, TimeoutError } from "../errors.ts";
import { connectTcp, listenTcp } from "../transport/tcp.ts";
import type { Conn } from "../transport/types.ts";
import { encodeLengthPrefixed, LengthPrefixedDecoder } from "./length_prefixed.ts";
import { LineDecoder } from "./line.ts";
import { readFrames } from "./read_frames.ts";
import { concat, text, utf8 } from "./_test_utils.ts";
import { statusWithin } from "../../tests/_support/command.ts";

/** A loopback TCP pair: `client` reads frames, `server` is the peer. */
async function pair(): Promise<{ client: Conn; server: Conn; [Symbol.dispose](): void }> {
  using listener = listenTcp();
  const client = await connectTcp({ port: listener.addr.port, timeout: 5000 });
  const server = await listener.accept({ timeout: 5000 });
  return {
    client,
    server,
    [Symbol.dispose]() {
      client.close();
      server.close();
    },
  };
}

async function collect(frames: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const frame of frames) out.push(text(frame));
  return out;
}

Deno.test("readFrames() yields the frames a peer sent in one write and ends at EOF", async () => {
  using p = await pair();
  const wire = concat(["a", "", "bc"].map((s) => encodeLengthPrefixed(s)));
  await p.server.write(wire);
  await p.server.closeWrite();
  const frames = await collect(
    readFrames(p.client, new LengthPrefixedDecoder(), { timeout: 5000 }),
  );
  assert.deepEqual(frames, ["a", "", "bc"]);
});

Deno.test("readFrames() decodes a frame a peer sends one byte at a time", async () => {
  using p = await pair();
  const wire = concat([
    encodeLengthPrefixed("split me", { prefixSize: 2 }),
    encodeLengthPrefixed("x", { prefixSize: 2 }),
  ]);
  const sending = (async () => {
    for (const byte of wire) {
      await p.server.write(new Uint8Array([byte]));
      // Let each byte leave as its own segment (TCP_NODELAY is on).
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await p.server.closeWrite();
  })();
  const frames = await collect(
    readFrames(p.client, new LengthPrefixedDecoder({ prefixSize: 2 }), { timeout: 5000 }),
  );
  await sending;
  assert.deepEqual(frames, ["split me", "x"]);
});

Deno.test("readFrames() throws ConnectionError closed when the peer closes in the middle of a frame", async () => {
  using p = await pair();
  await p.server.write(
    concat([encodeLengthPrefixed("whole"), new Uint8Array([0, 0, 0, 10, 1, 2, 3])]),
  );
  p.server.close();
  const got: string[] = [];
  await assert.rejects(
    async () => {
      for await (const f of readFrames(p.client, new LengthPrefixedDecoder(), { timeout: 5000 })) {
        got.push(text(f));
      }
    },
    (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.equal(error.code, "closed");
      assert.equal(error.operation, "read");
      assert.match(
        error.message,
        /^Cannot read from 127\.0\.0\.1:\d+: connection closed in the middle of a frame \(7 bytes buffered\)$/,
      );
      assert.ok(error.cause instanceof SyntaxError);
      return true;
    },
  );
  assert.deepEqual(got, ["whole"]);
});

Deno.test("readFrames() applies the timeout to each read and keeps the decoder usable after it", async () => {
  using p = await pair();
  const decoder = new LineDecoder();
  await p.server.write(utf8("first\nsec"));
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const line of readFrames(p.client, decoder, { timeout: 100 })) got.push(text(line));
  }, TimeoutError);
  assert.deepEqual(got, ["first"]);
  assert.equal(decoder.buffered, 3);
  await p.server.write(utf8("ond\n"));
  await p.server.closeWrite();
  assert.deepEqual(await collect(readFrames(p.client, decoder, { timeout: 5000 })), ["second"]);
});

Deno.test("readFrames() stops with the signal's reason when aborted", async () => {
  using p = await pair();
  const controller = new AbortController();
  const reason = new Error("stop now");
  const timer = setTimeout(() => controller.abort(reason), 50);
  try {
    await assert.rejects(
      collect(readFrames(p.client, new LineDecoder(), { signal: controller.signal })),
      (error: unknown) => error === reason,
    );
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("readFrames() throws the decoder's RangeError after the frames before an oversized one", async () => {
  using p = await pair();
  await p.server.write(
    concat([encodeLengthPrefixed("ok"), encodeLengthPrefixed(new Uint8Array(70000))]),
  );
  await p.server.closeWrite();
  const got: string[] = [];
  await assert.rejects(async () => {
    const decoder = new LengthPrefixedDecoder({ maxFrameSize: 65536 });
    for await (const f of readFrames(p.client, decoder, { timeout: 5000 })) got.push(text(f));
  }, {
    name: "RangeError",
    message: "Cannot decode frame: length 70000 exceeds the limit of 65536",
  });
  assert.deepEqual(got, ["ok"]);
});

Deno.test("readFrames() decodes frames packed by a python3 peer with struct.pack('>H')", async () => {
  using listener = listenTcp();
  const script = [
    "import socket, struct, sys",
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
    "for p in [b'hello', b'', b'x' * 300, b'\\x00\\xff']:",
    "    s.sendall(struct.pack('>H', len(p)) + p)",
    "s.close()",
  ].join("\n");
  const child = new Deno.Command("python3", {
    args: ["-c", script, String(listener.addr.port)],
  }).spawn();
  using conn = await listener.accept({ timeout: 5000 });
  const frames = await Array.fromAsync(
    readFrames(conn, new LengthPrefixedDecoder({ prefixSize: 2 }), { timeout: 5000 }),
  );
  assert.equal((await statusWithin(child, 10_000, "python3 to exit")).code, 0);
  assert.deepEqual(frames, [
    utf8("hello"),
    new Uint8Array(0),
    utf8("x".repeat(300)),
    new Uint8Array([0, 255]),
  ]);
});

Deno.test("readFrames() reads 100k small frames over loopback TCP (prints frames/s)", async () => {
  using p = await pair();
  const count = 100_000;
  const one = encodeLengthPrefixed("0123456789abcdef", { prefixSize: 2 });
  const wire = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) wire.set(one, i * one.length);
  const start = performance.now();
  const sending = p.server.write(wire).then(() => p.server.closeWrite());
  let frames = 0;
  for await (
    const _ of readFrames(p.client, new LengthPrefixedDecoder({ prefixSize: 2 }), {
      timeout: 10_000,
    })
  ) {
    frames++;
  }
  await sending;
  const ms = performance.now() - start;
  assert.equal(frames, count);
  console.log(
    `readFrames over TCP: ${count} frames of 18 bytes in ${ms.toFixed(1)} ms = ${
      Math.round(count / ms * 1000)
    } frames/s`,
  );
});
