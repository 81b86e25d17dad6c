import assert from "node:assert/strict";
import { RespError, RespProtocolError } from "./errors.ts";
import { RespDecoder, type RespValue } from "./resp_decoder.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

const MIXED = "+OK\r\n-ERR no such key\r\n:-42\r\n$5\r\nhe\r\nl\r\n$0\r\n\r\n$-1\r\n" +
  "*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n";

function expectedMixed(values: RespValue[]): void {
  assert.equal(values.length, 7);
  assert.equal(values[0], "OK");
  assert.ok(values[1] instanceof RespError);
  assert.equal((values[1] as RespError).code, "ERR");
  assert.equal((values[1] as RespError).reply, "ERR no such key");
  assert.equal(values[2], -42);
  assert.deepEqual(values[3], bytes("he\r\nl"));
  assert.deepEqual(values[4], new Uint8Array(0));
  assert.equal(values[5], null);
  assert.deepEqual(values[6], [1, ["a", bytes("b")], []]);
}

Deno.test("RespDecoder decodes every RESP2 type in one chunk", () => {
  const decoder = new RespDecoder();
  const values = decoder.push(bytes(MIXED + "*-1\r\n"));
  expectedMixed(values.slice(0, 7));
  assert.equal(values[7], null);
  decoder.end();
});

Deno.test("RespDecoder gives the same values however the stream is split", () => {
  const all = bytes(MIXED);
  for (let cut = 1; cut < all.length; cut++) {
    const decoder = new RespDecoder();
    const values = [...decoder.push(all.subarray(0, cut)), ...decoder.push(all.subarray(cut))];
    expectedMixed(values);
  }
  // One byte at a time too: every state boundary is crossed.
  const decoder = new RespDecoder();
  const values: RespValue[] = [];
  for (let i = 0; i < all.length; i++) values.push(...decoder.push(all.subarray(i, i + 1)));
  expectedMixed(values);
  assert.equal(decoder.inReply, false);
});

Deno.test("RespDecoder keeps integers beyond 2^53 exact as bigint", () => {
  const decoder = new RespDecoder();
  assert.deepEqual(decoder.push(bytes(":9223372036854775807\r\n:9007199254740991\r\n")), [
    9223372036854775807n,
    9007199254740991,
  ]);
});

Deno.test("RespDecoder refuses an integer that does not fit in 64 bits", () => {
  assert.throws(
    () => new RespDecoder().push(bytes(":9223372036854775808\r\n")),
    (e: unknown) => e instanceof RespProtocolError && /does not fit in 64 bits/.test(e.message),
  );
});

Deno.test("RespDecoder refuses an unknown type byte, then every later push", () => {
  const decoder = new RespDecoder();
  assert.throws(
    () => decoder.push(bytes("?what\r\n")),
    (e: unknown) =>
      e instanceof RespProtocolError &&
      e.message === 'Cannot parse RESP reply: unknown type byte "?" (0x3f)',
  );
  assert.throws(() => decoder.push(bytes("+OK\r\n")), RespProtocolError);
});

Deno.test("RespDecoder refuses a line ended by LF alone", () => {
  assert.throws(() => new RespDecoder().push(bytes("+OK\n")), /ends with LF alone, not CRLF/);
});

Deno.test("RespDecoder refuses a length that is not a number", () => {
  assert.throws(() => new RespDecoder().push(bytes("$abc\r\n")), RespProtocolError);
  assert.throws(() => new RespDecoder().push(bytes("*-2\r\n")), /out of range/);
});

Deno.test("RespDecoder refuses a bulk string not followed by CRLF", () => {
  assert.throws(() => new RespDecoder().push(bytes("$2\r\nabcd\r\n")), /not followed by CRLF/);
});

Deno.test("RespDecoder refuses a bulk string over maxBulkSize before its body arrives", () => {
  const decoder = new RespDecoder({ maxBulkSize: 1024 });
  assert.throws(
    () => decoder.push(bytes("$1025\r\n")),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "Cannot parse RESP reply: bulk string of 1025 bytes exceeds the limit of 1024",
  );
  assert.deepEqual(new RespDecoder({ maxBulkSize: 3 }).push(bytes("$3\r\nabc\r\n")), [
    bytes("abc"),
  ]);
});

Deno.test("RespDecoder refuses a line over maxLineLength without buffering more", () => {
  const decoder = new RespDecoder({ maxLineLength: 8 });
  assert.deepEqual(decoder.push(bytes("+1234567\r\n")), ["1234567"]);
  assert.throws(() => decoder.push(bytes("+123456789")), /longer than the limit of 8 bytes/);
  assert.ok(decoder.buffered <= 9);
});

Deno.test("RespDecoder refuses arrays over maxArrayLength or nested beyond maxDepth", () => {
  assert.throws(
    () => new RespDecoder({ maxArrayLength: 2 }).push(bytes("*3\r\n")),
    /array of 3 elements exceeds the limit of 2/,
  );
  assert.throws(
    () => new RespDecoder({ maxDepth: 2 }).push(bytes("*1\r\n*1\r\n*1\r\n")),
    /nest deeper than the limit of 2/,
  );
  assert.deepEqual(new RespDecoder({ maxDepth: 2 }).push(bytes("*1\r\n*1\r\n:7\r\n")), [[[7]]]);
});

Deno.test("RespDecoder.end() refuses a stream that stops inside a reply", () => {
  const decoder = new RespDecoder();
  assert.deepEqual(decoder.push(bytes("*2\r\n:1\r\n")), []);
  assert.equal(decoder.inReply, true);
  assert.throws(() => decoder.end(), /the stream ended inside a reply/);
});

Deno.test("RespDecoder rejects limits that are not positive integers", () => {
  assert.throws(() => new RespDecoder({ maxBulkSize: 0 }), RangeError);
  assert.throws(() => new RespDecoder({ maxDepth: 1.5 }), RangeError);
});

Deno.test("RespDecoder applies maxLineLength alike to a line in one chunk and to one split across chunks", () => {
  for (const cut of [undefined, 3]) {
    const push = (decoder: RespDecoder, text: string) => {
      const all = bytes(text);
      if (cut === undefined) return decoder.push(all);
      return [...decoder.push(all.subarray(0, cut)), ...decoder.push(all.subarray(cut))];
    };
    assert.deepEqual(push(new RespDecoder({ maxLineLength: 8 }), "+1234567\r\n"), ["1234567"]);
    assert.throws(
      () => push(new RespDecoder({ maxLineLength: 8 }), "+12345678\r\n"),
      /longer than the limit of 8 bytes/,
    );
  }
});

Deno.test("RespDecoder decodes short, long and non-ASCII simple strings as UTF-8", () => {
  const long = "x".repeat(40);
  const values = new RespDecoder().push(
    bytes(`+PONG\r\n+${long}\r\n+caf\u00e9\r\n+\r\n-ERR \u00fc\r\n`),
  );
  assert.deepEqual(values.slice(0, 4), ["PONG", long, "caf\u00e9", ""]);
  assert.equal((values[4] as RespError).reply, "ERR \u00fc");
});
