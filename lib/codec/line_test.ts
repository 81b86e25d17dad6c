import assert from "node:assert/strict";
import { encodeLine, LineDecoder } from "./line.ts";
import { concat, decodeAll, everyChunking, randomChunks, text, utf8 } from "./_test_utils.ts";

// LF, CRLF, an empty line and a lone CR inside a line, in 12 bytes.
const MIXED = utf8("ab\r\nc\n\r\nd\re\n");

function lines(decoder: LineDecoder, chunks: Iterable<Uint8Array>): string[] {
  return decodeAll(decoder, chunks).frames.map(text);
}

Deno.test("LineDecoder splits at LF and CRLF, keeping a lone CR, for every chunking", () => {
  let runs = 0;
  for (const chunks of everyChunking(MIXED)) {
    assert.deepEqual(
      lines(new LineDecoder(), chunks),
      ["ab", "c", "", "d\re"],
      `${chunks.map((c) => c.length)}`,
    );
    runs++;
  }
  assert.equal(runs, 2 ** 11);
});

Deno.test("LineDecoder with terminator LF keeps the CR before it, for every chunking", () => {
  for (const chunks of everyChunking(MIXED)) {
    assert.deepEqual(lines(new LineDecoder({ terminator: "\n" }), chunks), [
      "ab\r",
      "c",
      "\r",
      "d\re",
    ]);
  }
});

Deno.test("LineDecoder with terminator CRLF treats a lone LF as data, for every chunking", () => {
  const input = utf8("ab\r\nc\nd\r\n\r\n");
  for (const chunks of everyChunking(input)) {
    assert.deepEqual(lines(new LineDecoder({ terminator: "\r\n" }), chunks), ["ab", "c\nd", ""]);
  }
});

Deno.test("LineDecoder joins a CRLF split between chunks", () => {
  const decoder = new LineDecoder();
  assert.deepEqual(decoder.push(utf8("abc\r")), []);
  assert.equal(decoder.buffered, 4);
  assert.deepEqual(decoder.push(utf8("\n")).map(text), ["abc"]);
  assert.equal(decoder.buffered, 0);
});

Deno.test("LineDecoder returns many lines from one chunk", () => {
  const expected = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
  const decoder = new LineDecoder();
  assert.deepEqual(
    decoder.push(utf8(expected.map((l) => `${l}\r\n`).join(""))).map(text),
    expected,
  );
});

Deno.test("LineDecoder decodes random chunkings of long lines", () => {
  const expected = Array.from({ length: 40 }, (_, i) => "x".repeat(i * 53) + (i % 2 ? "\r" : ""));
  const input = utf8(expected.map((l) => `${l}\n`).join(""));
  const want = expected.map((l) => l.replace(/\r$/, ""));
  for (let seed = 1; seed <= 20; seed++) {
    assert.deepEqual(
      lines(new LineDecoder(), randomChunks(input, 300, seed)),
      want,
      `seed ${seed}`,
    );
  }
});

Deno.test("LineDecoder accepts a line exactly at the limit with LF or CRLF, in one-byte chunks", () => {
  const line = "y".repeat(100);
  for (const terminator of ["\n", "\r\n"]) {
    const input = utf8(line + terminator);
    const decoder = new LineDecoder({ maxLineLength: 100 });
    const { frames, maxBuffered } = decodeAll(
      decoder,
      Array.from(input, (b) => new Uint8Array([b])),
    );
    assert.deepEqual(frames.map(text), [line]);
    // The CR of a CRLF may be held while waiting for the LF.
    assert.equal(maxBuffered, terminator === "\n" ? 100 : 101);
  }
});

Deno.test("LineDecoder refuses a line of limit + 1 bytes", () => {
  const decoder = new LineDecoder({ maxLineLength: 100 });
  assert.throws(() => decoder.push(utf8("z".repeat(101) + "\n")), {
    name: "RangeError",
    message: "Cannot decode line: length 101 exceeds the limit of 100",
  });
});

Deno.test("LineDecoder refuses to hold more than the limit without a terminator", () => {
  const decoder = new LineDecoder({ maxLineLength: 100 });
  let held = 0;
  assert.throws(() => {
    for (const chunk of randomChunks(new Uint8Array(1000).fill(0x41), 30, 7)) {
      decoder.push(chunk);
      held = Math.max(held, decoder.buffered);
    }
  }, {
    name: "RangeError",
    message: "Cannot decode line: no line terminator within the limit of 100 bytes",
  });
  assert.ok(held <= 100, `held ${held} bytes`);
  assert.equal(decoder.buffered, 0);
});

Deno.test("LineDecoder refuses limit + 1 bytes that end in a CR when the terminator is LF only", () => {
  const decoder = new LineDecoder({ maxLineLength: 3, terminator: "\n" });
  assert.throws(() => decoder.push(utf8("abc\r")), RangeError);
  const lenient = new LineDecoder({ maxLineLength: 3 });
  assert.deepEqual(lenient.push(utf8("abc\r")), []);
});

Deno.test("LineDecoder returns the lines before a too long one and throws on the next call", () => {
  const decoder = new LineDecoder({ maxLineLength: 3 });
  assert.deepEqual(decoder.push(utf8("ok\nway too long\n")).map(text), ["ok"]);
  assert.throws(() => decoder.push(utf8("x\n")), RangeError);
});

Deno.test("LineDecoder.end() throws a SyntaxError for an unterminated last line by default", () => {
  const decoder = new LineDecoder();
  decoder.push(utf8("a\nbc"));
  assert.throws(() => decoder.end(), {
    name: "SyntaxError",
    message: "Cannot decode line: input ended in the middle of a line (2 bytes buffered)",
  });
  assert.deepEqual(decoder.end(), []);
});

Deno.test("LineDecoder.end() returns an unterminated last line when told to emit it", () => {
  const decoder = new LineDecoder({ unterminated: "emit" });
  assert.deepEqual(lines(decoder, [utf8("a\nbc\r")]), ["a", "bc\r"]);
});

Deno.test("LineDecoder throws a TypeError for an unknown terminator or unterminated option", () => {
  assert.throws(() => new LineDecoder({ terminator: "\r" as "\n" }), TypeError);
  assert.throws(
    () => new LineDecoder({ unterminated: "drop" as "emit" }),
    (e: unknown) =>
      e instanceof TypeError && /unterminated "drop" is not "error" or "emit"$/.test(e.message),
  );
});

Deno.test("encodeLine() appends LF or CRLF to text or bytes", () => {
  assert.deepEqual(encodeLine("hi"), utf8("hi\n"));
  assert.deepEqual(encodeLine(utf8("hi"), "\r\n"), utf8("hi\r\n"));
  assert.deepEqual(encodeLine(""), utf8("\n"));
  assert.deepEqual(encodeLine("a\rb", "\r\n"), utf8("a\rb\r\n"));
});

Deno.test("encodeLine() throws a TypeError for a line that would not read back as one line", () => {
  assert.throws(() => encodeLine("a\nb"), {
    name: "TypeError",
    message: "Cannot encode line: it contains a line feed at byte 1",
  });
  assert.throws(() => encodeLine("a\r"), TypeError);
  assert.deepEqual(encodeLine("a\r", "\r\n"), utf8("a\r\r\n"));
  assert.throws(() => encodeLine("a", "\r" as "\n"), TypeError);
});

Deno.test("encodeLine() output reads back through LineDecoder", () => {
  const sent = ["PING", "", "a\rb", "é"];
  const wire = concat(sent.map((l) => encodeLine(l, "\r\n")));
  assert.deepEqual(lines(new LineDecoder(), [wire]), sent);
});

Deno.test("LineDecoder decodes 100k short lines (prints frames/s)", () => {
  const count = 100_000;
  const input = utf8("+0123456789abcdef\r\n".repeat(count));
  const decode = () => {
    const decoder = new LineDecoder();
    let n = 0;
    for (let at = 0; at < input.length; at += 65536) {
      n += decoder.push(input.subarray(at, at + 65536)).length;
    }
    return n;
  };
  decode(); // Warm up the JIT so the print shows the steady rate.
  const start = performance.now();
  const n = decode();
  const ms = performance.now() - start;
  assert.equal(n, count);
  console.log(
    `lines: ${count} lines of 19 bytes in ${ms.toFixed(1)} ms = ${
      Math.round(count / ms * 1000)
    } frames/s`,
  );
});
