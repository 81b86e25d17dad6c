/**
 * {@linkcode ByteWriter}: write integers, floats, bytes and text into a
 * growing buffer, big-endian unless told otherwise.
 *
 * @module
 */
import {
  checkBigInt,
  checkBytes,
  checkFloat,
  checkInt,
  checkSize,
  isLittle,
  typeName,
} from "./_check.ts";
import type { Endian } from "./types.ts";

/** Options for {@linkcode ByteWriter}. */
export interface ByteWriterOptions {
  /** Byte order of multi-byte values. Default `"big"` (network order). */
  endian?: Endian;
  /** Bytes to allocate up front; the buffer grows as needed. Default 64. */
  capacity?: number;
}

const encoder = new TextEncoder();

/**
 * Builds a binary message field by field, like a sequence of Python
 * `struct.pack` calls or C's `htons`/`htonl` plus `memcpy`. Every method
 * returns the writer, so calls chain; {@linkcode ByteWriter.toBytes} returns
 * what was written.
 *
 * Integers are checked: a value outside the field's range throws a
 * `RangeError`, a non-integer or a value of the wrong type a `TypeError`.
 *
 * @example Writing a header in network byte order
 * ```ts
 * import { ByteWriter } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const bytes = new ByteWriter().u8(1).u16(1024).u32(0xdeadbeef).string("ok").toBytes();
 * assert.deepEqual(bytes, new Uint8Array([1, 0x04, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x6f, 0x6b]));
 * ```
 *
 * @example Little-endian
 * ```ts
 * import { ByteWriter } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const bytes = new ByteWriter({ endian: "little" }).u16(1024).toBytes();
 * assert.deepEqual(bytes, new Uint8Array([0x00, 0x04]));
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #view: DataView<ArrayBuffer>;
  #length = 0;
  #little: boolean;

  /**
   * Creates an empty writer.
   *
   * @param options Byte order and initial capacity.
   */
  constructor(options: ByteWriterOptions = {}) {
    this.#little = isLittle(options.endian, "Cannot create writer");
    const capacity = checkSize(options.capacity ?? 64, "Cannot create writer: capacity");
    this.#buf = new Uint8Array(Math.max(capacity, 8));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** The byte order of multi-byte values. */
  get endian(): Endian {
    return this.#little ? "little" : "big";
  }

  /** How many bytes were written. */
  get length(): number {
    return this.#length;
  }

  /**
   * Writes an unsigned 8-bit integer.
   *
   * @param value 0 to 255.
   * @returns This writer.
   */
  u8(value: number): this {
    const v = checkInt(value, "u8", "Cannot write u8");
    const at = this.#reserve(1);
    this.#view.setUint8(at, v);
    return this;
  }

  /**
   * Writes a signed 8-bit integer.
   *
   * @param value -128 to 127.
   * @returns This writer.
   */
  i8(value: number): this {
    const v = checkInt(value, "i8", "Cannot write i8");
    const at = this.#reserve(1);
    this.#view.setInt8(at, v);
    return this;
  }

  /**
   * Writes an unsigned 16-bit integer (Python `H`, C `htons`).
   *
   * @param value 0 to 65535.
   * @returns This writer.
   */
  u16(value: number): this {
    const v = checkInt(value, "u16", "Cannot write u16");
    const at = this.#reserve(2);
    this.#view.setUint16(at, v, this.#little);
    return this;
  }

  /**
   * Writes a signed 16-bit integer.
   *
   * @param value -32768 to 32767.
   * @returns This writer.
   */
  i16(value: number): this {
    const v = checkInt(value, "i16", "Cannot write i16");
    const at = this.#reserve(2);
    this.#view.setInt16(at, v, this.#little);
    return this;
  }

  /**
   * Writes an unsigned 32-bit integer (Python `I`, C `htonl`).
   *
   * @param value 0 to 4294967295.
   * @returns This writer.
   */
  u32(value: number): this {
    const v = checkInt(value, "u32", "Cannot write u32");
    const at = this.#reserve(4);
    this.#view.setUint32(at, v, this.#little);
    return this;
  }

  /**
   * Writes a signed 32-bit integer.
   *
   * @param value -2147483648 to 2147483647.
   * @returns This writer.
   */
  i32(value: number): this {
    const v = checkInt(value, "i32", "Cannot write i32");
    const at = this.#reserve(4);
    this.#view.setInt32(at, v, this.#little);
    return this;
  }

  /**
   * Writes an unsigned 64-bit integer.
   *
   * @param value 0n to 2n ** 64n - 1n.
   * @returns This writer.
   */
  u64(value: bigint): this {
    const v = checkBigInt(value, "u64", "Cannot write u64");
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, v, this.#little);
    return this;
  }

  /**
   * Writes a signed 64-bit integer.
   *
   * @param value -(2n ** 63n) to 2n ** 63n - 1n.
   * @returns This writer.
   */
  i64(value: bigint): this {
    const v = checkBigInt(value, "i64", "Cannot write i64");
    const at = this.#reserve(8);
    this.#view.setBigInt64(at, v, this.#little);
    return this;
  }

  /**
   * Writes a 32-bit IEEE 754 float (rounded to nearest).
   *
   * @param value Any number a 32-bit float can hold (finite values that
   * round to infinity throw a `RangeError`).
   * @returns This writer.
   */
  f32(value: number): this {
    const v = checkFloat(value, 32, "Cannot write f32");
    const at = this.#reserve(4);
    this.#view.setFloat32(at, v, this.#little);
    return this;
  }

  /**
   * Writes a 64-bit IEEE 754 float.
   *
   * @param value Any number.
   * @returns This writer.
   */
  f64(value: number): this {
    const v = checkFloat(value, 64, "Cannot write f64");
    const at = this.#reserve(8);
    this.#view.setFloat64(at, v, this.#little);
    return this;
  }

  /**
   * Writes raw bytes as they are.
   *
   * @param data The bytes.
   * @returns This writer.
   */
  bytes(data: Uint8Array): this {
    checkBytes(data, "Cannot write bytes");
    const at = this.#reserve(data.length);
    this.#buf.set(data, at);
    return this;
  }

  /**
   * Writes text as UTF-8, with no length prefix or terminator.
   *
   * @param text The text.
   * @returns This writer.
   */
  string(text: string): this {
    if (typeof text !== "string") {
      throw new TypeError(`Cannot write string: expected a string, got ${typeName(text)}`);
    }
    // A UTF-16 code unit never needs more than 3 UTF-8 bytes.
    const offset = this.#reserve(text.length * 3);
    const { written } = encoder.encodeInto(text, this.#buf.subarray(offset));
    this.#length = offset + written;
    return this;
  }

  /**
   * Returns the bytes written so far. The array is a view of the writer's
   * memory: later writes do not change it, but do not hand it to code that
   * writes into it while you keep writing.
   *
   * @returns The written bytes.
   */
  toBytes(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  /**
   * Makes room for `n` more bytes and returns where they start. Call it
   * before reading `#view`: growing replaces the view.
   */
  #reserve(n: number): number {
    const offset = this.#length;
    const needed = offset + n;
    if (needed > this.#buf.length) {
      // Doubling keeps appends amortised O(1).
      const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2));
      grown.set(this.#buf.subarray(0, offset));
      this.#buf = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#length = needed;
    return offset;
  }
}
