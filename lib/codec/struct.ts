/**
 * {@linkcode pack}, {@linkcode unpack} and {@linkcode calcSize}: Python's
 * `struct` format strings over `DataView`.
 *
 * @module
 */
import { checkBigInt, checkBytes, checkFloat, checkInt, typeName } from "./_check.ts";
import { CODE_SIZE, parseFormat } from "./_struct_format.ts";

/** A value {@linkcode unpack} returns (and {@linkcode pack} takes). */
export type StructValue = number | bigint | boolean | Uint8Array;

const encoder = new TextEncoder();

/**
 * Packs values into bytes as described by a Python `struct` format string.
 *
 * The format is a subset of Python's, with standard sizes and no alignment
 * padding (what Python does when the format starts with a byte-order
 * character):
 *
 * | first character | byte order |
 * | --- | --- |
 * | `>` or `!` | big-endian (network order) |
 * | `<` | little-endian |
 * | `=` | the machine's order: little-endian on x86 and usual ARM systems |
 * | none | big-endian; **Python would use native order with alignment here** |
 *
 * `@` (native alignment) is refused with a `SyntaxError`.
 *
 * | code | bytes | JavaScript value |
 * | --- | --- | --- |
 * | `x` | 1 | none: a zero pad byte |
 * | `b` `B` | 1 | number, signed / unsigned |
 * | `?` | 1 | boolean |
 * | `h` `H` | 2 | number, signed / unsigned |
 * | `i` `I` `l` `L` | 4 | number, signed / unsigned |
 * | `q` `Q` | 8 | bigint, signed / unsigned |
 * | `e` `f` `d` | 2 / 4 / 8 | number (IEEE 754 half, single, double) |
 * | `s` | count | Uint8Array, or a string packed as UTF-8; cut or zero-padded to count |
 *
 * A count before a code repeats it (`3H` is three values), except for `s`,
 * where it is the length of one byte string (`4s`). Whitespace between
 * items is ignored.
 *
 * @param format The format, e.g. `">HI4s"`.
 * @param values One value per code (none for `x`, one per `s`).
 * @returns The packed bytes, {@linkcode calcSize} of the format long.
 * @throws {SyntaxError} When the format cannot be parsed (the message names
 * the position).
 * @throws {TypeError} When the number of values or a value's type is wrong,
 * or an integer code gets a fraction.
 * @throws {RangeError} When an integer is out of range for its code, or a
 * finite float is too large for `e` or `f`.
 *
 * @example Python's struct.pack(">I", 1024) and friends
 * ```ts
 * import { pack } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(pack(">I", 1024), new Uint8Array([0, 0, 4, 0]));
 * assert.deepEqual(pack("<H", 1024), new Uint8Array([0, 4]));
 * assert.deepEqual(
 *   pack("!BxH2s", 7, 80, "ok"),
 *   new Uint8Array([7, 0, 0, 80, 0x6f, 0x6b]),
 * );
 * assert.deepEqual(pack(">Q", 1n), new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]));
 * assert.throws(() => pack(">B", 256), RangeError);
 * ```
 */
export function pack(format: string, ...values: (StructValue | string)[]): Uint8Array {
  const parsed = parseFormat(format);
  if (values.length !== parsed.values) {
    throw new TypeError(
      `Cannot pack "${format}": expected ${parsed.values} ${
        parsed.values === 1 ? "value" : "values"
      }, got ${values.length}`,
    );
  }
  const out = new Uint8Array(parsed.size);
  const view = new DataView(out.buffer);
  const little = parsed.little;
  let offset = 0;
  let index = 0;
  for (const { code, count } of parsed.items) {
    if (code === "x") {
      offset += count;
      continue;
    }
    if (code === "s") {
      const what = `Cannot pack values[${index}] as "${count}s"`;
      const value = values[index++];
      const bytes = typeof value === "string" ? encoder.encode(value) : checkBytes(value, what);
      out.set(bytes.length > count ? bytes.subarray(0, count) : bytes, offset);
      offset += count;
      continue;
    }
    const width = CODE_SIZE[code];
    for (let k = 0; k < count; k++) {
      const what = `Cannot pack values[${index}] as "${code}"`;
      const value = values[index++];
      switch (code) {
        case "b":
          view.setInt8(offset, checkInt(value, "i8", what));
          break;
        case "B":
          view.setUint8(offset, checkInt(value, "u8", what));
          break;
        case "?":
          if (typeof value !== "boolean") {
            throw new TypeError(`${what}: expected a boolean, got ${typeName(value)}`);
          }
          view.setUint8(offset, value ? 1 : 0);
          break;
        case "h":
          view.setInt16(offset, checkInt(value, "i16", what), little);
          break;
        case "H":
          view.setUint16(offset, checkInt(value, "u16", what), little);
          break;
        case "i":
        case "l":
          view.setInt32(offset, checkInt(value, "i32", what), little);
          break;
        case "I":
        case "L":
          view.setUint32(offset, checkInt(value, "u32", what), little);
          break;
        case "q":
          view.setBigInt64(offset, checkBigInt(value, "i64", what), little);
          break;
        case "Q":
          view.setBigUint64(offset, checkBigInt(value, "u64", what), little);
          break;
        case "e":
          view.setFloat16(offset, checkFloat(value, 16, what), little);
          break;
        case "f":
          view.setFloat32(offset, checkFloat(value, 32, what), little);
          break;
        case "d":
          view.setFloat64(offset, checkFloat(value, 64, what), little);
          break;
      }
      offset += width;
    }
  }
  return out;
}

/**
 * Unpacks bytes as described by a Python `struct` format string (see
 * {@linkcode pack} for the codes). Like Python's `struct.unpack`, the input
 * must be exactly {@linkcode calcSize} of the format long; read fields from a
 * longer buffer with `bytes.subarray()` or a {@linkcode ByteReader}.
 *
 * @param format The format, e.g. `">HI4s"`.
 * @param bytes Exactly as many bytes as the format describes.
 * @returns One value per code: numbers, bigints for `q`/`Q`, booleans for
 * `?`, and a fresh Uint8Array for each `s`.
 * @throws {SyntaxError} When the format cannot be parsed.
 * @throws {RangeError} When `bytes` has the wrong length.
 *
 * @example Python's struct.unpack(">HI", data)
 * ```ts
 * import { unpack } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const [port, length] = unpack(">HI", new Uint8Array([0x1f, 0x90, 0, 0, 4, 0]));
 * assert.equal(port, 8080);
 * assert.equal(length, 1024);
 * assert.deepEqual(unpack("<q", new Uint8Array(8).fill(0xff)), [-1n]);
 * ```
 */
export function unpack(format: string, bytes: Uint8Array): StructValue[] {
  const parsed = parseFormat(format);
  checkBytes(bytes, `Cannot unpack "${format}"`);
  if (bytes.length !== parsed.size) {
    throw new RangeError(
      `Cannot unpack "${format}": expected ${parsed.size} bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = parsed.little;
  const out: StructValue[] = [];
  let offset = 0;
  for (const { code, count } of parsed.items) {
    if (code === "x") {
      offset += count;
      continue;
    }
    if (code === "s") {
      out.push(bytes.slice(offset, offset + count));
      offset += count;
      continue;
    }
    const width = CODE_SIZE[code];
    for (let k = 0; k < count; k++) {
      switch (code) {
        case "b":
          out.push(view.getInt8(offset));
          break;
        case "B":
          out.push(view.getUint8(offset));
          break;
        case "?":
          out.push(view.getUint8(offset) !== 0);
          break;
        case "h":
          out.push(view.getInt16(offset, little));
          break;
        case "H":
          out.push(view.getUint16(offset, little));
          break;
        case "i":
        case "l":
          out.push(view.getInt32(offset, little));
          break;
        case "I":
        case "L":
          out.push(view.getUint32(offset, little));
          break;
        case "q":
          out.push(view.getBigInt64(offset, little));
          break;
        case "Q":
          out.push(view.getBigUint64(offset, little));
          break;
        case "e":
          out.push(view.getFloat16(offset, little));
          break;
        case "f":
          out.push(view.getFloat32(offset, little));
          break;
        case "d":
          out.push(view.getFloat64(offset, little));
          break;
      }
      offset += width;
    }
  }
  return out;
}

/**
 * Returns how many bytes a format describes, like Python's
 * `struct.calcsize` with a byte-order prefix (no alignment padding).
 *
 * @param format The format, e.g. `">HI4s"`.
 * @returns The size in bytes.
 * @throws {SyntaxError} When the format cannot be parsed.
 *
 * @example Sizes of a few formats
 * ```ts
 * import { calcSize } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * assert.equal(calcSize(">HI4s"), 10);
 * assert.equal(calcSize("<3Hx"), 7);
 * assert.throws(() => calcSize(">Iz"), SyntaxError);
 * ```
 */
export function calcSize(format: string): number {
  return parseFormat(format).size;
}
