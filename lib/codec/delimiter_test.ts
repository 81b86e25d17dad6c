import assert from "node:assert/strict";
import { DelimiterDecoder, encodeDelimited } from "./delimiter.ts";
import { concat, decodeAll, everyChunking, randomChunks, text, utf8 } from "./_test_utils.ts";

function frames(decoder: DelimiterDecoder, chunks: Iterable<Uint8Array>): string[] {
  return decodeAll(decoder, chunks).frames.map(text);
}

Deno.test("DelimiterDecoder splits at a multi-byte delimiter for every chunking, near misses included", () => {
  // "\r\n" and "\r" inside frames start the delimiter without completing it.
  const input = utf8("a\r\nb\r\n\r\n\r\r\n\r\n");
  let runs = 0;
  for (const chunks of everyChunking(input)) {
    const got = frames(new DelimiterDecoder({ delimiter: "\r\n\r\n" }), chunks);
    assert.deepEqual(got, ["a\r\nb", "\r"], `${chunks.map((c) => c.length)}`);
    runs++;
  }
  assert.equal(runs, 2 ** 12);
});

Deno.test("DelimiterDecoder finds a self-overlapping delimiter for every chunking", () => {
  // "aab" in "aaab": a naive search that skips past a failed partial match misses it.
  for (const chunks of everyChunking(utf8("aaabxaabaab"))) {
    assert.deepEqual(frames(new DelimiterDecoder({ delimiter: "aab" }), chunks), ["a", "x", ""]);
  }
});

Deno.test("DelimiterDecoder finds a delimiter spanning two chunks", () => {
  const decoder = new DelimiterDecoder({ delimiter: "\r\n\r\n" });
  assert.deepEqual(decoder.push(utf8("GET / HTTP/1.1\r\nHost: x\r\n")), []);
  assert.deepEqual(decoder.push(utf8("\r")), []);
  assert.deepEqual(decoder.push(utf8("\nnext")).map(text), ["GET / HTTP/1.1\r\nHost: x"]);
  assert.equal(decoder.buffered, 4);
});

Deno.test("DelimiterDecoder finds a delimiter whose first byte ends the held bytes and the rest is spread over chunks", () => {
  const decoder = new DelimiterDecoder({ delimiter: "<END>" });
  const got = ["body<", "E", "N", "D>tail<END>"].flatMap((c) => decoder.push(utf8(c)).map(text));
  assert.deepEqual(got, ["body", "tail"]);
});

Deno.test("DelimiterDecoder returns many frames from one chunk", () => {
  const expected = Array.from({ length: 1000 }, (_, i) => `frame ${i}`);
  const decoder = new DelimiterDecoder({ delimiter: "\0" });
  assert.deepEqual(decoder.push(utf8(expected.map((f) => `${f}\0`).join(""))).map(text), expected);
});

Deno.test("DelimiterDecoder decodes random chunkings of long frames", () => {
  const expected = Array.from({ length: 40 }, (_, i) => "-".repeat(i * 61) + "\r\n\r");
  const input = utf8(expected.map((f) => `${f}\r\n\r\n`).join(""));
  for (let seed = 1; seed <= 20; seed++) {
    const got = frames(
      new DelimiterDecoder({ delimiter: "\r\n\r\n" }),
      randomChunks(input, 400, seed),
    );
    assert.deepEqual(got, expected, `seed ${seed}`);
  }
});

Deno.test("DelimiterDecoder accepts a frame exactly at the limit, holding at most limit + delimiter - 1", () => {
  const payload = "p".repeat(200);
  const decoder = new DelimiterDecoder({ delimiter: "\r\n\r\n", maxFrameSize: 200 });
  const input = utf8(`${payload}\r\n\r\n`);
  const { frames, maxBuffered } = decodeAll(decoder, Array.from(input, (b) => new Uint8Array([b])));
  assert.deepEqual(frames.map(text), [payload]);
  assert.equal(maxBuffered, 203);
});

Deno.test("DelimiterDecoder refuses a frame of limit + 1 bytes", () => {
  const decoder = new DelimiterDecoder({ delimiter: "\0", maxFrameSize: 200 });
  assert.throws(() => decoder.push(utf8(`${"p".repeat(201)}\0`)), {
    name: "RangeError",
    message: "Cannot decode frame: length 201 exceeds the limit of 200",
  });
});

Deno.test("DelimiterDecoder refuses to hold more than limit + delimiter - 1 bytes without a delimiter", () => {
  const decoder = new DelimiterDecoder({ delimiter: "\r\n", maxFrameSize: 200 });
  let held = 0;
  assert.throws(() => {
    for (const chunk of randomChunks(new Uint8Array(2000).fill(0x41), 50, 3)) {
      decoder.push(chunk);
      held = Math.max(held, decoder.buffered);
    }
  }, {
    name: "RangeError",
    message: "Cannot decode frame: no delimiter within the limit of 200 bytes",
  });
  assert.ok(held <= 201, `held ${held} bytes`);
});

Deno.test("DelimiterDecoder returns the frames before a too long one and throws on the next call", () => {
  const decoder = new DelimiterDecoder({ delimiter: "\0", maxFrameSize: 3 });
  assert.deepEqual(decoder.push(utf8("ok\0far too long\0")).map(text), ["ok"]);
  assert.throws(() => decoder.end(), RangeError);
});

Deno.test("DelimiterDecoder.end() throws a SyntaxError for trailing bytes by default", () => {
  const decoder = new DelimiterDecoder({ delimiter: "\0" });
  decoder.push(utf8("a\0bc"));
  assert.throws(() => decoder.end(), {
    name: "SyntaxError",
    message: "Cannot decode frame: input ended in the middle of a frame (2 bytes buffered)",
  });
});

Deno.test("DelimiterDecoder.end() returns trailing bytes when told to emit them", () => {
  const decoder = new DelimiterDecoder({ delimiter: "\r\n\r\n", unterminated: "emit" });
  assert.deepEqual(frames(decoder, [utf8("a\r\n\r\nbody\r\n")]), ["a", "body\r\n"]);
});

Deno.test("DelimiterDecoder throws a TypeError for an empty or missing delimiter", () => {
  assert.throws(() => new DelimiterDecoder({ delimiter: "" }), {
    name: "TypeError",
    message: "Cannot create decoder: the delimiter is empty",
  });
  assert.throws(() => new DelimiterDecoder({} as { delimiter: string }), TypeError);
});

Deno.test("DelimiterDecoder is not affected when the delimiter passed in changes later", () => {
  const delimiter = new Uint8Array([0]);
  const decoder = new DelimiterDecoder({ delimiter });
  delimiter[0] = 1;
  assert.deepEqual(decoder.push(new Uint8Array([7, 0])), [new Uint8Array([7])]);
});

Deno.test("encodeDelimited() appends the delimiter to text or bytes", () => {
  assert.deepEqual(encodeDelimited("hi", "\r\n\r\n"), utf8("hi\r\n\r\n"));
  assert.deepEqual(
    encodeDelimited(new Uint8Array([1]), new Uint8Array([0, 0])),
    new Uint8Array([1, 0, 0]),
  );
  assert.deepEqual(encodeDelimited("", "\0"), new Uint8Array([0]));
});

Deno.test("encodeDelimited() throws a TypeError when a reader would cut the frame early", () => {
  assert.throws(() => encodeDelimited("a\0b", "\0"), {
    name: "TypeError",
    message: "Cannot encode frame: a reader would find the delimiter at byte 1, inside the payload",
  });
  // The payload ends with "\r\n", which the delimiter's start completes.
  assert.throws(() => encodeDelimited("a\r\n", "\r\n\r\n"), TypeError);
  assert.throws(() => encodeDelimited("a", ""), TypeError);
});

Deno.test("encodeDelimited() output reads back through DelimiterDecoder", () => {
  const sent = ["one", "", "t\r\nwo"];
  const wire = concat(sent.map((f) => encodeDelimited(f, "\r\n\r\n")));
  assert.deepEqual(frames(new DelimiterDecoder({ delimiter: "\r\n\r\n" }), [wire]), sent);
});

Deno.test("DelimiterDecoder decodes 100k small frames and a 1 MiB frame in 1-byte chunks (prints rates)", () => {
  const count = 100_000;
  const input = utf8("0123456789abcdef\r\n\r\n".repeat(count));
  const decode = () => {
    const decoder = new DelimiterDecoder({ delimiter: "\r\n\r\n" });
    let n = 0;
    for (let at = 0; at < input.length; at += 65536) {
      n += decoder.push(input.subarray(at, at + 65536)).length;
    }
    return n;
  };
  decode(); // Warm up the JIT so the print shows the steady rate.
  let start = performance.now();
  const n = decode();
  let ms = performance.now() - start;
  assert.equal(n, count);
  console.log(
    `delimiter: ${count} frames of 20 bytes in ${ms.toFixed(1)} ms = ${
      Math.round(count / ms * 1000)
    } frames/s`,
  );

  // Resuming the search where it stopped keeps byte-at-a-time input linear.
  // All CRs: every byte is a candidate start of "\r\n\r\n", the worst case.
  const big = new Uint8Array((1 << 20) + 4).fill(0x0d);
  big.set(utf8("\r\n\r\n"), 1 << 20);
  const decoder = new DelimiterDecoder({ delimiter: "\r\n\r\n", maxFrameSize: 1 << 20 });
  const one = new Uint8Array(1);
  const got: Uint8Array[] = [];
  start = performance.now();
  for (let i = 0; i < big.length; i++) {
    one[0] = big[i];
    got.push(...decoder.push(one));
  }
  ms = performance.now() - start;
  assert.equal(got.length, 1);
  assert.equal(got[0].length, 1 << 20);
  console.log(`delimiter: a 1 MiB frame in 1-byte chunks in ${ms.toFixed(1)} ms`);
});

Deno.test("DelimiterDecoder refuses an unknown unterminated option, naming it", () => {
  assert.throws(
    () => new DelimiterDecoder({ delimiter: ";", unterminated: "drop" as "emit" }),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message === 'Cannot create decoder: unterminated "drop" is not "error" or "emit"',
  );
  assert.equal(new DelimiterDecoder({ delimiter: ";", unterminated: undefined }).buffered, 0);
});
