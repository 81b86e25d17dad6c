import assert from "node:assert/strict";
import { ByteReader } from "./byte_reader.ts";
import { pack } from "./struct.ts";

Deno.test("ByteReader reads every field type big-endian by default", () => {
  const bytes = pack(
    ">BbHhIiQqfd",
    255,
    -2,
    1024,
    -3,
    0xdeadbeef,
    -4,
    2n ** 64n - 2n,
    -5n,
    1.5,
    -0.1,
  );
  const r = new ByteReader(bytes);
  assert.deepEqual(
    [r.u8(), r.i8(), r.u16(), r.i16(), r.u32(), r.i32(), r.u64(), r.i64(), r.f32(), r.f64()],
    [255, -2, 1024, -3, 0xdeadbeef, -4, 2n ** 64n - 2n, -5n, 1.5, -0.1],
  );
  assert.equal(r.remaining, 0);
  assert.equal(r.offset, bytes.length);
});

Deno.test("ByteReader reads little-endian when told", () => {
  const r = new ByteReader(pack("<HIqd", 1024, 7, -9n, 3.25), { endian: "little" });
  assert.deepEqual([r.u16(), r.u32(), r.i64(), r.f64()], [1024, 7, -9n, 3.25]);
});

Deno.test("ByteReader throws a RangeError naming the field, offset and what remains", () => {
  const r = new ByteReader(new Uint8Array(8));
  r.skip(6);
  assert.throws(() => r.u32(), {
    name: "RangeError",
    message: "Cannot read u32 at offset 6: only 2 bytes remain",
  });
  r.u8();
  assert.throws(() => r.bytes(2), {
    name: "RangeError",
    message: "Cannot read 2 bytes at offset 7: only 1 byte remains",
  });
  r.u8();
  assert.throws(() => r.u8(), { message: "Cannot read u8 at offset 8: no bytes remain" });
});

Deno.test("ByteReader does not move when a read fails", () => {
  const r = new ByteReader(new Uint8Array([0, 1, 2]));
  assert.throws(() => r.u32(), RangeError);
  assert.equal(r.offset, 0);
  assert.equal(r.u16(), 1);
});

Deno.test("ByteReader reads a subarray from its own offset", () => {
  const whole = new Uint8Array([9, 9, 0, 0, 4, 0, 9]);
  const r = new ByteReader(whole.subarray(2, 6));
  assert.equal(r.u32(), 1024);
  assert.equal(r.remaining, 0);
});

Deno.test("ByteReader.bytes() returns a view, not a copy", () => {
  const source = new Uint8Array([1, 2, 3]);
  const view = new ByteReader(source).bytes(2);
  source[0] = 7;
  assert.deepEqual(view, new Uint8Array([7, 2]));
});

Deno.test("ByteReader.string() decodes UTF-8 of a byte length", () => {
  const encoded = new TextEncoder().encode("é€x");
  const r = new ByteReader(encoded);
  assert.equal(r.string(5), "é€");
  assert.equal(r.string(1), "x");
});

Deno.test("ByteReader.string() throws a SyntaxError for invalid UTF-8 and does not move", () => {
  const r = new ByteReader(new Uint8Array([0x61, 0xff]));
  r.u8();
  assert.throws(() => r.string(1), {
    name: "SyntaxError",
    message: "Cannot read string at offset 1: invalid UTF-8",
  });
  assert.equal(r.offset, 1);
});

Deno.test("ByteReader throws a RangeError for a negative or fractional length", () => {
  const r = new ByteReader(new Uint8Array(4));
  assert.throws(() => r.bytes(-1), RangeError);
  assert.throws(() => r.skip(1.5), RangeError);
});

Deno.test("ByteReader throws a TypeError when not given a Uint8Array", () => {
  assert.throws(() => new ByteReader([1, 2] as unknown as Uint8Array), TypeError);
});
