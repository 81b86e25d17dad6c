import assert from "node:assert/strict";
import {
  DelimiterDecoderStream,
  FrameDecoderStream,
  LengthPrefixedDecoderStream,
  LineDecoderStream,
} from "./decoder_streams.ts";
import { encodeLengthPrefixed } from "./length_prefixed.ts";
import { LineDecoder } from "./line.ts";
import { concat, text, utf8 } from "./_test_utils.ts";
import { killAfter } from "../../tests/_support/command.ts";

function byteByByte(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return ReadableStream.from(Array.from(bytes, (b) => new Uint8Array([b])));
}

Deno.test("LengthPrefixedDecoderStream decodes frames fed one byte at a time", async () => {
  const wire = concat(["one", "", "three"].map((p) => encodeLengthPrefixed(p, { prefixSize: 2 })));
  const frames = await Array.fromAsync(
    byteByByte(wire).pipeThrough(new LengthPrefixedDecoderStream({ prefixSize: 2 })),
  );
  assert.deepEqual(frames.map(text), ["one", "", "three"]);
});

Deno.test("LineDecoderStream decodes the lines a python3 process prints", async () => {
  const child = new Deno.Command("python3", {
    args: ["-c", "import sys\nfor i in range(1000): sys.stdout.write(f'line {i}\\r\\n')"],
    stdout: "piped",
  }).spawn();
  using _ = killAfter(child, 10_000);
  const lines = await Array.fromAsync(child.stdout.pipeThrough(new LineDecoderStream()));
  assert.equal((await child.status).code, 0);
  assert.deepEqual(lines.map(text), Array.from({ length: 1000 }, (_, i) => `line ${i}`));
});

Deno.test("DelimiterDecoderStream emits a trailing frame at the end when told to", async () => {
  const frames = await Array.fromAsync(
    byteByByte(utf8("a;;b")).pipeThrough(
      new DelimiterDecoderStream({ delimiter: ";;", unterminated: "emit" }),
    ),
  );
  assert.deepEqual(frames.map(text), ["a", "b"]);
});

Deno.test("FrameDecoderStream delivers the frames before an oversized one, then errors with RangeError", async () => {
  const stream = ReadableStream.from([utf8("ok\ntoo long for the limit\n")])
    .pipeThrough(new FrameDecoderStream(new LineDecoder({ maxLineLength: 5 })));
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const line of stream) got.push(text(line));
  }, {
    name: "RangeError",
    message: "Cannot decode line: length 22 exceeds the limit of 5",
  });
  assert.deepEqual(got, ["ok"]);
});

Deno.test("LengthPrefixedDecoderStream errors with SyntaxError when the input ends inside a frame", async () => {
  const stream = ReadableStream.from([new Uint8Array([0, 0, 0, 9, 1, 2])])
    .pipeThrough(new LengthPrefixedDecoderStream());
  await assert.rejects(Array.fromAsync(stream), {
    name: "SyntaxError",
    message: "Cannot decode frame: input ended in the middle of a frame (6 bytes buffered)",
  });
});
