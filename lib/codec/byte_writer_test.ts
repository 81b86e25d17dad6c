import assert from "node:assert/strict";
import { ByteWriter } from "./byte_writer.ts";
import { pack } from "./struct.ts";

Deno.test("ByteWriter writes every field type big-endian by default, as pack() with > does", () => {
  const bytes = new ByteWriter()
    .u8(255).i8(-2).u16(1024).i16(-3).u32(0xdeadbeef).i32(-4)
    .u64(2n ** 64n - 2n).i64(-5n).f32(1.5).f64(-0.1)
    .toBytes();
  const expected = pack(
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
  assert.deepEqual(bytes, expected);
});

Deno.test("ByteWriter writes little-endian when told, as pack() with < does", () => {
  const writer = new ByteWriter({ endian: "little" });
  assert.equal(writer.endian, "little");
  const bytes = writer.u16(1024).u32(7).u64(9n).i64(-9n).f32(2.5).f64(3.25).toBytes();
  assert.deepEqual(bytes, pack("<HIQqfd", 1024, 7, 9n, -9n, 2.5, 3.25));
});

Deno.test("ByteWriter grows past its initial capacity and keeps every byte", () => {
  const writer = new ByteWriter({ capacity: 1 });
  for (let i = 0; i < 10_000; i++) writer.u32(i);
  const bytes = writer.toBytes();
  assert.equal(writer.length, 40_000);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < 10_000; i++) assert.equal(view.getUint32(i * 4), i);
});

Deno.test("ByteWriter.string() writes UTF-8 with no prefix or terminator", () => {
  const bytes = new ByteWriter({ capacity: 0 }).string("é€😀").u8(0).toBytes();
  assert.deepEqual(bytes, new Uint8Array([...new TextEncoder().encode("é€😀"), 0]));
});

Deno.test("ByteWriter.bytes() writes raw bytes, growing as needed", () => {
  const big = new Uint8Array(1000).fill(7);
  const bytes = new ByteWriter({ capacity: 0 }).bytes(new Uint8Array([1, 2])).bytes(big).toBytes();
  assert.deepEqual(bytes, new Uint8Array([1, 2, ...big]));
});

Deno.test("ByteWriter.toBytes() is not changed by later writes", () => {
  const writer = new ByteWriter({ capacity: 2 });
  const first = writer.u16(1).toBytes();
  writer.u32(2).u32(3);
  assert.deepEqual(first, new Uint8Array([0, 1]));
});

Deno.test("ByteWriter throws a RangeError for integers out of range, writing nothing", () => {
  const writer = new ByteWriter();
  assert.throws(() => writer.u8(256), {
    name: "RangeError",
    message: `Cannot write u8: "256" is out of range 0 to 255`,
  });
  assert.throws(() => writer.i8(-129), RangeError);
  assert.throws(() => writer.u16(65536), RangeError);
  assert.throws(() => writer.i16(32768), RangeError);
  assert.throws(() => writer.u32(-1), RangeError);
  assert.throws(() => writer.i32(2 ** 31), RangeError);
  assert.throws(() => writer.u64(-1n), RangeError);
  assert.throws(() => writer.i64(2n ** 63n), RangeError);
  assert.throws(() => writer.f32(1e39), RangeError);
  assert.equal(writer.length, 0);
});

Deno.test("ByteWriter throws a TypeError for values of the wrong type", () => {
  const writer = new ByteWriter();
  assert.throws(() => writer.u8(1.5), {
    name: "TypeError",
    message: `Cannot write u8: "1.5" is not an integer`,
  });
  assert.throws(() => writer.u16("1" as unknown as number), TypeError);
  assert.throws(() => writer.u64(1 as unknown as bigint), {
    name: "TypeError",
    message: "Cannot write u64: expected a bigint, got number",
  });
  assert.throws(() => writer.bytes([1] as unknown as Uint8Array), TypeError);
  assert.throws(() => writer.string(1 as unknown as string), TypeError);
  assert.equal(writer.length, 0);
});

Deno.test("ByteWriter throws a TypeError for an unknown endian", () => {
  assert.throws(() => new ByteWriter({ endian: "middle" as "big" }), TypeError);
});
