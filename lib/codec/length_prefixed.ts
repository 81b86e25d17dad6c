/**
 * Length-prefixed framing: each frame is a 1, 2 or 4-byte unsigned length
 * followed by that many bytes. {@linkcode encodeLengthPrefixed} writes a
 * frame, {@linkcode LengthPrefixedDecoder} cuts a byte stream into frames.
 *
 * @module
 */
import { ChunkSlicer } from "./_chunk_slicer.ts";
import { checkBytes, checkSize, isLittle, typeName } from "./_check.ts";
import type { Endian, FrameDecoder } from "./types.ts";

/** How the length prefix is written. */
export interface LengthPrefixOptions {
  /** Bytes in the length prefix: 1 (u8), 2 (u16) or 4 (u32). Default 4. */
  prefixSize?: 1 | 2 | 4;
  /** Byte order of the prefix. Default `"big"` (network order). */
  endian?: Endian;
  /** The length counts the prefix itself, as well as the payload. Default `false`. */
  includesHeader?: boolean;
}

/** Options for {@linkcode LengthPrefixedDecoder}. */
export interface LengthPrefixedDecoderOptions extends LengthPrefixOptions {
  /**
   * Largest payload accepted, in bytes (the prefix not counted). A longer
   * frame is refused as soon as its prefix is read, before any of its
   * payload is buffered. Default 1048576 (1 MiB).
   */
  maxFrameSize?: number;
}

const DEFAULT_MAX_FRAME_SIZE = 1 << 20;
const PREFIX_MAX: Record<number, number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff };
const encoder = new TextEncoder();

interface Prefix {
  size: 1 | 2 | 4;
  little: boolean;
  includesHeader: boolean;
}

function checkPrefix(options: LengthPrefixOptions, what: string): Prefix {
  const size = options.prefixSize ?? 4;
  if (size !== 1 && size !== 2 && size !== 4) {
    throw new RangeError(`${what}: prefixSize "${String(size)}" is not 1, 2 or 4`);
  }
  return {
    size,
    little: isLittle(options.endian, what),
    includesHeader: options.includesHeader ?? false,
  };
}

function readPrefix(bytes: Uint8Array, at: number, size: number, little: boolean): number {
  if (size === 1) return bytes[at];
  if (size === 2) {
    return little ? bytes[at] | (bytes[at + 1] << 8) : (bytes[at] << 8) | bytes[at + 1];
  }
  // Multiply the top byte so the result stays unsigned.
  return little
    ? bytes[at + 3] * 0x100_0000 + ((bytes[at + 2] << 16) | (bytes[at + 1] << 8) | bytes[at])
    : bytes[at] * 0x100_0000 + ((bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]);
}

/**
 * Encodes one length-prefixed frame: the prefix, then the payload.
 *
 * @param payload The frame's bytes; a string is encoded as UTF-8.
 * @param options Prefix size, byte order and whether the length counts the
 * prefix.
 * @returns A fresh array holding the prefix and the payload.
 * @throws {RangeError} When the length does not fit the prefix.
 *
 * @example A 2-byte big-endian prefix
 * ```ts
 * import { encodeLengthPrefixed } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeLengthPrefixed("hi", { prefixSize: 2 }), new Uint8Array([0, 2, 0x68, 0x69]));
 * assert.deepEqual(
 *   encodeLengthPrefixed(new Uint8Array([9]), { prefixSize: 1, includesHeader: true }),
 *   new Uint8Array([2, 9]),
 * );
 * assert.throws(() => encodeLengthPrefixed(new Uint8Array(256), { prefixSize: 1 }), RangeError);
 * ```
 */
export function encodeLengthPrefixed(
  payload: Uint8Array | string,
  options: LengthPrefixOptions = {},
): Uint8Array {
  const what = "Cannot encode frame";
  const { size, little, includesHeader } = checkPrefix(options, what);
  const body = typeof payload === "string" ? encoder.encode(payload) : checkBytes(payload, what);
  const length = body.length + (includesHeader ? size : 0);
  if (length > PREFIX_MAX[size]) {
    throw new RangeError(
      `${what}: length ${length} does not fit a ${size}-byte prefix (at most ${PREFIX_MAX[size]})`,
    );
  }
  const out = new Uint8Array(size + body.length);
  const view = new DataView(out.buffer);
  if (size === 1) view.setUint8(0, length);
  else if (size === 2) view.setUint16(0, length, little);
  else view.setUint32(0, length, little);
  out.set(body, size);
  return out;
}

/**
 * Cuts a byte stream into length-prefixed frames (see {@linkcode FrameDecoder}
 * for the push/end contract). Frames come out without their prefix.
 *
 * Memory stays bounded by the limit: a prefix announcing more than
 * `maxFrameSize` bytes throws a `RangeError` ("Cannot decode frame: length
 * 70000 exceeds the limit of 65536") before any of that payload is held.
 * Every byte is copied once: a payload split across chunks goes into an
 * array of its announced size, filled in place.
 *
 * @example Frames split across chunks and several frames in one chunk
 * ```ts
 * import { LengthPrefixedDecoder } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LengthPrefixedDecoder({ prefixSize: 2 });
 * assert.deepEqual(decoder.push(new Uint8Array([0, 3, 1])), []);
 * assert.equal(decoder.buffered, 3);
 * const frames = decoder.push(new Uint8Array([2, 3, 0, 1, 4, 0, 0]));
 * assert.deepEqual(frames, [new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([])]);
 * assert.deepEqual(decoder.end(), []);
 * ```
 *
 * @example Refusing an oversized frame from its prefix alone
 * ```ts
 * import { LengthPrefixedDecoder } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const decoder = new LengthPrefixedDecoder({ maxFrameSize: 65536 });
 * assert.throws(() => decoder.push(new Uint8Array([0, 1, 0x11, 0x70])), {
 *   name: "RangeError",
 *   message: "Cannot decode frame: length 70000 exceeds the limit of 65536",
 * });
 * ```
 */
export class LengthPrefixedDecoder implements FrameDecoder {
  #prefix: Prefix;
  #max: number;
  #header = new Uint8Array(4);
  #headerFill = 0;
  #body: Uint8Array | null = null;
  #bodyFill = 0;
  #error: Error | null = null;

  /**
   * Creates a decoder.
   *
   * @param options Prefix size, byte order, whether the length counts the
   * prefix, and the largest payload accepted.
   */
  constructor(options: LengthPrefixedDecoderOptions = {}) {
    const what = "Cannot create decoder";
    this.#prefix = checkPrefix(options, what);
    this.#max = checkSize(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, `${what}: maxFrameSize`);
  }

  /** Bytes held for the frame in progress (prefix and payload so far). */
  get buffered(): number {
    return this.#body === null ? this.#headerFill : this.#prefix.size + this.#bodyFill;
  }

  /**
   * Feeds the next bytes of the stream.
   *
   * @param chunk Bytes as they arrived; not kept after the call.
   * @returns The frames this chunk completed, payloads only, in order.
   * @throws {RangeError} When a prefix announces more than `maxFrameSize`.
   * @throws {SyntaxError} When `includesHeader` is set and a length is
   * smaller than the prefix.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#error) throw this.#error;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`Cannot decode frame: expected a Uint8Array, got ${typeName(chunk)}`);
    }
    const frames: Uint8Array[] = [];
    try {
      this.#decode(chunk, frames);
    } catch (error) {
      this.#error = error as Error;
      this.#reset();
      if (frames.length === 0) throw error;
    }
    return frames;
  }

  /**
   * Declares the end of the stream.
   *
   * @returns No frames (a length-prefixed stream has no unterminated tail).
   * @throws {SyntaxError} When the stream ended inside a prefix or payload.
   */
  end(): Uint8Array[] {
    if (this.#error) throw this.#error;
    const held = this.buffered;
    if (this.#headerFill > 0 || this.#body !== null) {
      this.#reset();
      throw new SyntaxError(
        `Cannot decode frame: input ended in the middle of a frame (${held} bytes buffered)`,
      );
    }
    return [];
  }

  #decode(chunk: Uint8Array, frames: Uint8Array[]): void {
    const { size: width, little } = this.#prefix;
    const end = chunk.length;
    const slicer = new ChunkSlicer(chunk);
    let pos = 0;
    while (pos < end) {
      if (this.#body === null) {
        let length: number;
        if (this.#headerFill === 0 && end - pos >= width) {
          length = readPrefix(chunk, pos, width, little);
          pos += width;
        } else {
          const take = Math.min(width - this.#headerFill, end - pos);
          this.#header.set(chunk.subarray(pos, pos + take), this.#headerFill);
          this.#headerFill += take;
          pos += take;
          if (this.#headerFill < width) return;
          length = readPrefix(this.#header, 0, width, little);
          this.#headerFill = 0;
        }
        const size = this.#payloadSize(length);
        if (end - pos >= size) {
          frames.push(slicer.frame(pos, pos + size));
          pos += size;
          continue;
        }
        // The payload is known to fit the limit: allocate it once, fill it in place.
        this.#body = new Uint8Array(size);
        this.#bodyFill = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyFill, end - pos);
      body.set(chunk.subarray(pos, pos + take), this.#bodyFill);
      this.#bodyFill += take;
      pos += take;
      if (this.#bodyFill === body.length) {
        frames.push(body);
        this.#body = null;
        this.#bodyFill = 0;
      }
    }
  }

  #payloadSize(length: number): number {
    const { size, includesHeader } = this.#prefix;
    if (includesHeader && length < size) {
      throw new SyntaxError(
        `Cannot decode frame: length ${length} is smaller than the ${size}-byte prefix it includes`,
      );
    }
    const payload = includesHeader ? length - size : length;
    if (payload > this.#max) {
      throw new RangeError(
        `Cannot decode frame: length ${payload} exceeds the limit of ${this.#max}`,
      );
    }
    return payload;
  }

  #reset(): void {
    this.#headerFill = 0;
    this.#body = null;
    this.#bodyFill = 0;
  }
}
