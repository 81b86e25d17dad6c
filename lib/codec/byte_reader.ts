/**
 * {@linkcode ByteReader}: read integers, floats, bytes and text from a byte
 * array, big-endian unless told otherwise, with bounds checks that say what
 * was missing.
 *
 * @module
 */
import { checkBytes, checkSize, isLittle } from "./_check.ts";
import type { Endian } from "./types.ts";

/** Options for {@linkcode ByteReader}. */
export interface ByteReaderOptions {
  /** Byte order of multi-byte values. Default `"big"` (network order). */
  endian?: Endian;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads a binary message field by field, like Python's `struct.unpack_from`
 * with a moving offset, or C's `ntohs`/`ntohl` over a buffer.
 *
 * Reading past the end throws a `RangeError` naming the field, the offset
 * and what was left ("Cannot read u32 at offset 6: only 2 bytes remain"); the
 * offset does not move when a read fails.
 *
 * @example Parsing a header in network byte order
 * ```ts
 * import { ByteReader } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const reader = new ByteReader(new Uint8Array([1, 0x04, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x6f, 0x6b]));
 * assert.equal(reader.u8(), 1);
 * assert.equal(reader.u16(), 1024);
 * assert.equal(reader.u32(), 0xdeadbeef);
 * assert.equal(reader.string(reader.remaining), "ok");
 * assert.throws(() => reader.u8(), RangeError);
 * ```
 */
export class ByteReader {
  #bytes: Uint8Array;
  #view: DataView;
  #offset = 0;
  #little: boolean;

  /**
   * Creates a reader at offset 0.
   *
   * @param bytes The bytes to read; not copied.
   * @param options Byte order.
   */
  constructor(bytes: Uint8Array, options: ByteReaderOptions = {}) {
    checkBytes(bytes, "Cannot create reader");
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#little = isLittle(options.endian, "Cannot create reader");
  }

  /** The byte order of multi-byte values. */
  get endian(): Endian {
    return this.#little ? "little" : "big";
  }

  /** Where the next read starts. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /**
   * Reads an unsigned 8-bit integer.
   *
   * @returns 0 to 255.
   */
  u8(): number {
    return this.#view.getUint8(this.#advance(1, "read u8"));
  }

  /**
   * Reads a signed 8-bit integer.
   *
   * @returns -128 to 127.
   */
  i8(): number {
    return this.#view.getInt8(this.#advance(1, "read i8"));
  }

  /**
   * Reads an unsigned 16-bit integer (Python `H`, C `ntohs`).
   *
   * @returns 0 to 65535.
   */
  u16(): number {
    return this.#view.getUint16(this.#advance(2, "read u16"), this.#little);
  }

  /**
   * Reads a signed 16-bit integer.
   *
   * @returns -32768 to 32767.
   */
  i16(): number {
    return this.#view.getInt16(this.#advance(2, "read i16"), this.#little);
  }

  /**
   * Reads an unsigned 32-bit integer (Python `I`, C `ntohl`).
   *
   * @returns 0 to 4294967295.
   */
  u32(): number {
    return this.#view.getUint32(this.#advance(4, "read u32"), this.#little);
  }

  /**
   * Reads a signed 32-bit integer.
   *
   * @returns -2147483648 to 2147483647.
   */
  i32(): number {
    return this.#view.getInt32(this.#advance(4, "read i32"), this.#little);
  }

  /**
   * Reads an unsigned 64-bit integer.
   *
   * @returns 0n to 2n ** 64n - 1n.
   */
  u64(): bigint {
    return this.#view.getBigUint64(this.#advance(8, "read u64"), this.#little);
  }

  /**
   * Reads a signed 64-bit integer.
   *
   * @returns -(2n ** 63n) to 2n ** 63n - 1n.
   */
  i64(): bigint {
    return this.#view.getBigInt64(this.#advance(8, "read i64"), this.#little);
  }

  /**
   * Reads a 32-bit IEEE 754 float.
   *
   * @returns The value as a number.
   */
  f32(): number {
    return this.#view.getFloat32(this.#advance(4, "read f32"), this.#little);
  }

  /**
   * Reads a 64-bit IEEE 754 float.
   *
   * @returns The value.
   */
  f64(): number {
    return this.#view.getFloat64(this.#advance(8, "read f64"), this.#little);
  }

  /**
   * Reads `length` raw bytes. The result is a view of the reader's bytes, not
   * a copy: copy it (`.slice()`) to keep it after the source changes.
   *
   * @param length How many bytes.
   * @returns The bytes.
   */
  bytes(length: number): Uint8Array {
    checkSize(length, "Cannot read bytes: length");
    const start = this.#advance(length, `read ${length} bytes`);
    return this.#bytes.subarray(start, start + length);
  }

  /**
   * Reads `length` bytes of UTF-8 text.
   *
   * @param length How many bytes (not characters).
   * @returns The text.
   * @throws {SyntaxError} When the bytes are not valid UTF-8 (the offset
   * does not move).
   */
  string(length: number): string {
    checkSize(length, "Cannot read string: length");
    const start = this.#offset;
    this.#advance(length, `read a string of ${length} bytes`);
    try {
      return decoder.decode(this.#bytes.subarray(start, start + length));
    } catch (error) {
      this.#offset = start;
      throw new SyntaxError(`Cannot read string at offset ${start}: invalid UTF-8`, {
        cause: error,
      });
    }
  }

  /**
   * Moves past `length` bytes without reading them (Python's `x` padding).
   *
   * @param length How many bytes.
   * @returns This reader.
   */
  skip(length: number): this {
    checkSize(length, "Cannot skip bytes: length");
    this.#advance(length, `skip ${length} bytes`);
    return this;
  }

  /** Claims `n` bytes and returns where they start, or throws without moving. */
  #advance(n: number, action: string): number {
    const offset = this.#offset;
    const left = this.#bytes.length - offset;
    if (n > left) {
      const rest = left === 0
        ? "no bytes remain"
        : left === 1
        ? "only 1 byte remains"
        : `only ${left} bytes remain`;
      throw new RangeError(`Cannot ${action} at offset ${offset}: ${rest}`);
    }
    this.#offset = offset + n;
    return offset;
  }
}
