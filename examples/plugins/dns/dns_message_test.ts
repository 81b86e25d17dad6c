import assert from "node:assert/strict";
import { pack } from "@wiretest/wiretest/codec";
import { decodeMessage, DnsProtocolError, encodeQuery } from "./dns_message.ts";

const name = (...labels: string[]) =>
  new Uint8Array([
    ...labels.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]),
    0,
  ]);
const concat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));

/** A response header: id 7, QR, RA, and the section counts. */
const header = (qd: number, an: number, flags = 0x8180) => pack(">HHHHHH", 7, flags, qd, an, 0, 0);

Deno.test("encodeQuery() packs the header, labels, type and class in network byte order", () => {
  const bytes = encodeQuery({ id: 0xbeef, name: "a.bc.", type: "AAAA", recursionDesired: false });
  assert.deepEqual(
    bytes,
    concat(pack(">HHHHHH", 0xbeef, 0, 1, 0, 0, 0), name("a", "bc"), pack(">HH", 28, 1)),
  );
});

Deno.test("encodeQuery() refuses labels over 63 bytes, names over 255, and unknown types", () => {
  assert.throws(() => encodeQuery({ id: 1, name: `${"a".repeat(64)}.com`, type: "A" }), RangeError);
  const long = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
  assert.throws(() => encodeQuery({ id: 1, name: long, type: "A" }), /exceeds the limit of 255/);
  assert.throws(() => encodeQuery({ id: 1, name: "a..b", type: "A" }), RangeError);
  assert.throws(() => encodeQuery({ id: 1, name: "x", type: "BOGUS" }), TypeError);
  assert.throws(() => encodeQuery({ id: 70_000, name: "x", type: "A" }), RangeError);
});

Deno.test("decodeMessage() follows compression pointers and reads A, AAAA, MX and TXT data", () => {
  const question = concat(name("example", "com"), pack(">HH", 1, 1));
  const record = (type: number, data: Uint8Array) =>
    concat(pack(">HHHIH", 0xc00c, type, 1, 300, data.length), data);
  const bytes = concat(
    header(1, 4),
    question,
    record(1, new Uint8Array([192, 0, 2, 1])),
    record(28, pack(">HHHHHHHH", 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
    record(15, concat(pack(">H", 10), name("mx"))),
    record(16, new Uint8Array([3, 0x61, 0x20, 0x62, 1, 0x63])),
  );
  const message = decodeMessage(bytes);
  assert.equal(message.id, 7);
  assert.equal(message.response, true);
  assert.equal(message.recursionAvailable, true);
  assert.deepEqual(message.questions, [{ name: "example.com", type: "A" }]);
  assert.deepEqual(message.answers.map((a) => [a.name, a.type, a.ttl, a.data]), [
    ["example.com", "A", 300, "192.0.2.1"],
    ["example.com", "AAAA", 300, "2001:db8::1"],
    ["example.com", "MX", 300, "10 mx"],
    ["example.com", "TXT", 300, '"a b" "c"'],
  ]);
});

Deno.test("decodeMessage() names the rcode and keeps unknown types as hex", () => {
  const question = concat(name("x"), pack(">HH", 99, 1));
  const answer = concat(pack(">HHHIH", 0xc00c, 99, 1, 5, 2), new Uint8Array([0xab, 0xcd]));
  const message = decodeMessage(concat(header(1, 1, 0x8183), question, answer));
  assert.equal(message.rcode, "NXDOMAIN");
  assert.deepEqual(message.answers[0], {
    name: "x",
    type: "TYPE99",
    class: 1,
    ttl: 5,
    data: "abcd",
  });
});

Deno.test("decodeMessage() refuses a compression pointer that does not point backwards", () => {
  // The question's name is a pointer to itself: following it would never end.
  const bytes = concat(header(1, 0), pack(">H", 0xc00c), pack(">HH", 1, 1));
  assert.throws(
    () => decodeMessage(bytes),
    (e: unknown) => e instanceof DnsProtocolError && /does not point backwards/.test(e.message),
  );
});

Deno.test("decodeMessage() refuses records whose lengths run past the message", () => {
  const question = concat(name("x"), pack(">HH", 1, 1));
  const cut = concat(header(1, 1), question, pack(">HHHIH", 0xc00c, 1, 1, 0, 4), new Uint8Array(2));
  assert.throws(() => decodeMessage(cut), /runs past the end of the message/);
  const wrongSize = concat(
    header(1, 1),
    question,
    pack(">HHHIH", 0xc00c, 1, 1, 0, 3),
    new Uint8Array(3),
  );
  assert.throws(() => decodeMessage(wrongSize), /A data is 3 bytes, not 4/);
  assert.throws(() => decodeMessage(new Uint8Array(5)), /shorter than a header/);
  assert.throws(() => decodeMessage(concat(header(1, 0), name("x"))), /question is cut short/);
});

Deno.test("decodeMessage() refuses a reserved label type", () => {
  const bytes = concat(header(1, 0), new Uint8Array([0x40, 0]), pack(">HH", 1, 1));
  assert.throws(() => decodeMessage(bytes), /label type 0x40 at byte 12 is reserved/);
});
