import assert from "node:assert/strict";
import { encodeLengthPrefixed, LengthPrefixedDecoder } from "./length_prefixed.ts";
import { concat, decodeAll, everyChunking, randomChunks, text, utf8 } from "./_test_utils.ts";

const FRAMES = [utf8("a"), new Uint8Array(0), utf8("bcd")];

Deno.test("LengthPrefixedDecoder decodes every chunking of u8, u16 and u32 frames", () => {
  // Empty frames at both ends for u32, whose inputs must stay short: n bytes
  // have 2^(n-1) chunkings.
  const u32Frames = [new Uint8Array(0), utf8("ab"), new Uint8Array(0)];
  const configs = [
    [{ prefixSize: 1 }, FRAMES],
    [{ prefixSize: 2 }, FRAMES],
    [{ prefixSize: 2, endian: "little" }, FRAMES],
    [{ prefixSize: 4 }, u32Frames],
    [{ prefixSize: 4, endian: "little", includesHeader: true }, u32Frames],
  ] as const;
  let runs = 0;
  for (const [options, payloads] of configs) {
    const wire = concat(payloads.map((f) => encodeLengthPrefixed(f, options)));
    for (const chunks of everyChunking(wire)) {
      const { frames } = decodeAll(new LengthPrefixedDecoder(options), chunks);
      const label = `${JSON.stringify(options)}: ${chunks.map((c) => c.length)}`;
      assert.deepEqual(frames, payloads, label);
      runs++;
    }
  }
  // Inputs of 7, 10, 10, 14 and 14 bytes.
  assert.equal(runs, 2 ** 6 + 2 ** 9 + 2 ** 9 + 2 ** 13 + 2 ** 13);
});

Deno.test("LengthPrefixedDecoder decodes one-byte chunks", () => {
  const wire = concat(FRAMES.map((f) => encodeLengthPrefixed(f)));
  const { frames } = decodeAll(
    new LengthPrefixedDecoder(),
    Array.from(wire, (b) => new Uint8Array([b])),
  );
  assert.deepEqual(frames, FRAMES);
});

Deno.test("LengthPrefixedDecoder returns many frames from one chunk", () => {
  const payloads = Array.from({ length: 1000 }, (_, i) => utf8(`frame ${i}`));
  const decoder = new LengthPrefixedDecoder({ prefixSize: 2 });
  const frames = decoder.push(
    concat(payloads.map((p) => encodeLengthPrefixed(p, { prefixSize: 2 }))),
  );
  assert.deepEqual(frames, payloads);
  assert.equal(decoder.buffered, 0);
});

Deno.test("LengthPrefixedDecoder decodes random chunkings of large frames", () => {
  const payloads = Array.from({ length: 50 }, (_, i) => new Uint8Array(i * 97).fill(i));
  const wire = concat(payloads.map((p) => encodeLengthPrefixed(p)));
  for (let seed = 1; seed <= 20; seed++) {
    const { frames } = decodeAll(new LengthPrefixedDecoder(), randomChunks(wire, 700, seed));
    assert.deepEqual(frames, payloads, `seed ${seed}`);
  }
});

Deno.test("LengthPrefixedDecoder accepts a frame exactly at the limit, holding at most the limit", () => {
  const payload = new Uint8Array(1000).fill(3);
  const wire = encodeLengthPrefixed(payload, { prefixSize: 2 });
  const decoder = new LengthPrefixedDecoder({ prefixSize: 2, maxFrameSize: 1000 });
  const { frames, maxBuffered } = decodeAll(decoder, randomChunks(wire, 7, 42));
  assert.deepEqual(frames, [payload]);
  assert.ok(maxBuffered <= 1000 + 2, `held ${maxBuffered} bytes`);
});

Deno.test("LengthPrefixedDecoder refuses limit + 1 from the prefix alone, before any payload", () => {
  const decoder = new LengthPrefixedDecoder({ prefixSize: 4, maxFrameSize: 1000 });
  assert.deepEqual(decoder.push(new Uint8Array([0, 0, 3])), []);
  assert.throws(() => decoder.push(new Uint8Array([0xe9])), {
    name: "RangeError",
    message: "Cannot decode frame: length 1001 exceeds the limit of 1000",
  });
  assert.equal(decoder.buffered, 0);
});

Deno.test("LengthPrefixedDecoder refuses a 70000-byte frame over a 65536 limit with the payload in the same chunk", () => {
  const decoder = new LengthPrefixedDecoder({ maxFrameSize: 65536 });
  const wire = encodeLengthPrefixed(new Uint8Array(70000));
  assert.throws(() => decoder.push(wire), {
    name: "RangeError",
    message: "Cannot decode frame: length 70000 exceeds the limit of 65536",
  });
  assert.equal(decoder.buffered, 0);
});

Deno.test("LengthPrefixedDecoder returns the frames before an oversized one and throws on the next call", () => {
  const decoder = new LengthPrefixedDecoder({ prefixSize: 1, maxFrameSize: 3 });
  const wire = concat([encodeLengthPrefixed("ab", { prefixSize: 1 }), new Uint8Array([200, 1, 2])]);
  assert.deepEqual(decoder.push(wire), [utf8("ab")]);
  assert.throws(() => decoder.push(new Uint8Array([1])), RangeError);
  assert.throws(() => decoder.end(), {
    name: "RangeError",
    message: "Cannot decode frame: length 200 exceeds the limit of 3",
  });
});

Deno.test("LengthPrefixedDecoder.end() throws a SyntaxError in the middle of a frame", () => {
  const decoder = new LengthPrefixedDecoder({ prefixSize: 2 });
  decoder.push(new Uint8Array([0, 5, 1, 2]));
  assert.equal(decoder.buffered, 4);
  assert.throws(() => decoder.end(), {
    name: "SyntaxError",
    message: "Cannot decode frame: input ended in the middle of a frame (4 bytes buffered)",
  });
  assert.equal(decoder.buffered, 0);
});

Deno.test("LengthPrefixedDecoder.end() throws a SyntaxError inside a prefix", () => {
  const decoder = new LengthPrefixedDecoder({ prefixSize: 4 });
  decoder.push(new Uint8Array([0]));
  assert.throws(() => decoder.end(), SyntaxError);
});

Deno.test("LengthPrefixedDecoder throws a SyntaxError when an including length is smaller than the prefix", () => {
  const decoder = new LengthPrefixedDecoder({ prefixSize: 4, includesHeader: true });
  assert.throws(() => decoder.push(new Uint8Array([0, 0, 0, 3])), {
    name: "SyntaxError",
    message: "Cannot decode frame: length 3 is smaller than the 4-byte prefix it includes",
  });
});

Deno.test("LengthPrefixedDecoder keeps no reference to the pushed chunk", () => {
  const decoder = new LengthPrefixedDecoder({ prefixSize: 1 });
  const chunk = new Uint8Array([2, 7, 8, 3, 9]);
  const [whole] = decoder.push(chunk);
  chunk.fill(0);
  const [split] = decoder.push(new Uint8Array([10, 11]));
  assert.deepEqual(whole, new Uint8Array([7, 8]));
  assert.deepEqual(split, new Uint8Array([9, 10, 11]));
});

Deno.test("LengthPrefixedDecoder throws for a bad prefix size or a chunk that is not bytes", () => {
  assert.throws(() => new LengthPrefixedDecoder({ prefixSize: 3 as 4 }), RangeError);
  assert.throws(() => new LengthPrefixedDecoder({ maxFrameSize: -1 }), RangeError);
  assert.throws(() => new LengthPrefixedDecoder().push("ab" as unknown as Uint8Array), TypeError);
});

Deno.test("encodeLengthPrefixed() writes u8, u16 and u32 prefixes in either byte order", () => {
  assert.deepEqual(encodeLengthPrefixed("ab", { prefixSize: 1 }), new Uint8Array([2, 97, 98]));
  assert.deepEqual(encodeLengthPrefixed("ab", { prefixSize: 2 }), new Uint8Array([0, 2, 97, 98]));
  assert.deepEqual(encodeLengthPrefixed("ab"), new Uint8Array([0, 0, 0, 2, 97, 98]));
  assert.deepEqual(
    encodeLengthPrefixed("ab", { prefixSize: 4, endian: "little", includesHeader: true }),
    new Uint8Array([6, 0, 0, 0, 97, 98]),
  );
});

Deno.test("encodeLengthPrefixed() throws a RangeError when the length does not fit the prefix", () => {
  assert.doesNotThrow(() => encodeLengthPrefixed(new Uint8Array(65535), { prefixSize: 2 }));
  assert.throws(() => encodeLengthPrefixed(new Uint8Array(65536), { prefixSize: 2 }), {
    name: "RangeError",
    message: "Cannot encode frame: length 65536 does not fit a 2-byte prefix (at most 65535)",
  });
  assert.throws(
    () => encodeLengthPrefixed(new Uint8Array(255), { prefixSize: 1, includesHeader: true }),
    RangeError,
  );
});

Deno.test("LengthPrefixedDecoder decodes 100k small frames (prints frames/s)", () => {
  const count = 100_000;
  const one = encodeLengthPrefixed("0123456789abcdef", { prefixSize: 2 });
  const wire = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) wire.set(one, i * one.length);
  const decode = () => {
    const decoder = new LengthPrefixedDecoder({ prefixSize: 2 });
    let frames = 0;
    for (let at = 0; at < wire.length; at += 65536) {
      frames += decoder.push(wire.subarray(at, at + 65536)).length;
    }
    return frames;
  };
  decode(); // Warm up the JIT so the print shows the steady rate.
  const start = performance.now();
  const frames = decode();
  const ms = performance.now() - start;
  assert.equal(frames, count);
  assert.equal(text(new LengthPrefixedDecoder({ prefixSize: 2 }).push(one)[0]), "0123456789abcdef");
  console.log(
    `length-prefixed: ${count} frames of 18 bytes in ${ms.toFixed(1)} ms = ${
      Math.round(count / ms * 1000)
    } frames/s`,
  );
});
