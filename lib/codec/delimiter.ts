/**
 * Delimiter framing: frames end with a fixed byte sequence, such as `\0`,
 * or `\r\n\r\n` after an HTTP header block. {@linkcode encodeDelimited}
 * writes a frame, {@linkcode DelimiterDecoder} cuts a byte stream into
 * frames.
 *
 * @module
 */
import { ChunkSlicer } from "./_chunk_slicer.ts";
import { checkBytes, checkSize, emitsUnterminated, typeName } from "./_check.ts";
import { PartialFrame } from "./_partial_frame.ts";
import type { FrameDecoder } from "./types.ts";

/** Options for {@linkcode DelimiterDecoder}. */
export interface DelimiterDecoderOptions {
  /** The bytes that end a frame; a string is encoded as UTF-8. Not empty. */
  delimiter: Uint8Array | string;
  /**
   * Largest frame accepted, in bytes, the delimiter not counted. Reaching it
   * without a delimiter throws a `RangeError` without buffering more.
   * Default 1048576 (1 MiB).
   */
  maxFrameSize?: number;
  /**
   * What {@linkcode DelimiterDecoder.end} does with trailing bytes that no
   * delimiter ended: `"error"` (default) throws a `SyntaxError`, `"emit"`
   * returns them as a last frame.
   */
  unterminated?: "error" | "emit";
}

const DEFAULT_MAX_FRAME_SIZE = 1 << 20;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

function toDelimiter(delimiter: unknown, what: string): Uint8Array {
  const bytes = typeof delimiter === "string"
    ? encoder.encode(delimiter)
    : checkBytes(delimiter, `${what}: delimiter`);
  if (bytes.length === 0) throw new TypeError(`${what}: the delimiter is empty`);
  return bytes.slice();
}

/** Index of the first whole `delim` in `bytes` at or after `from`, or -1. */
function indexOfDelimiter(bytes: Uint8Array, delim: Uint8Array, from: number): number {
  const first = delim[0];
  if (delim.length === 1) return bytes.indexOf(first, from);
  const last = bytes.length - delim.length;
  // indexOf is a native memchr: jump between candidates, compare the rest.
  for (let i = bytes.indexOf(first, from); i >= 0 && i <= last; i = bytes.indexOf(first, i + 1)) {
    let k = 1;
    while (k < delim.length && bytes[i + k] === delim[k]) k++;
    if (k === delim.length) return i;
  }
  return -1;
}

/**
 * Encodes one frame: the payload, then the delimiter.
 *
 * @param payload The frame's bytes; a string is encoded as UTF-8.
 * @param delimiter The bytes that end the frame; a string is encoded as UTF-8.
 * @returns A fresh array holding the payload and the delimiter.
 * @throws {TypeError} When the delimiter is empty, or a reader would find
 * it earlier than the end (the payload contains it, or ends with a part of
 * it that the delimiter completes).
 *
 * @example A NUL-terminated frame
 * ```ts
 * import { encodeDelimited } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeDelimited("hi", "\0"), new Uint8Array([0x68, 0x69, 0]));
 * assert.throws(() => encodeDelimited("a\r\n", "\r\n\r\n"), TypeError);
 * ```
 */
export function encodeDelimited(
  payload: Uint8Array | string,
  delimiter: Uint8Array | string,
): Uint8Array {
  const what = "Cannot encode frame";
  const delim = toDelimiter(delimiter, what);
  const body = typeof payload === "string" ? encoder.encode(payload) : checkBytes(payload, what);
  const out = new Uint8Array(body.length + delim.length);
  out.set(body);
  out.set(delim, body.length);
  const found = indexOfDelimiter(out, delim, 0);
  if (found !== body.length) {
    throw new TypeError(
      `${what}: a reader would find the delimiter at byte ${found}, inside the payload`,
    );
  }
  return out;
}

/**
 * Cuts a byte stream into frames that end with a delimiter (see
 * {@linkcode FrameDecoder} for the push/end contract). Frames come out
 * without the delimiter.
 *
 * The search never goes over the same bytes twice: the decoder remembers
 * where it stopped and resumes there, looking back only at the last
 * `delimiter.length - 1` bytes, where a delimiter split across chunks may
 * start. Memory stays bounded: at most `maxFrameSize + delimiter.length - 1`
 * bytes are held.
 *
 * @example An HTTP header block split across chunks
 * ```ts
 * import { DelimiterDecoder } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const utf8 = new TextEncoder();
 * const decoder = new DelimiterDecoder({ delimiter: "\r\n\r\n", maxFrameSize: 8192 });
 * assert.deepEqual(decoder.push(utf8.encode("HTTP/1.1 200 OK\r\n\r")), []);
 * const [head] = decoder.push(utf8.encode("\nbody"));
 * assert.equal(new TextDecoder().decode(head), "HTTP/1.1 200 OK");
 * assert.equal(decoder.buffered, 4);
 * ```
 */
export class DelimiterDecoder implements FrameDecoder {
  #delim: Uint8Array;
  #max: number;
  #emitUnterminated: boolean;
  #partial = new PartialFrame();
  // Candidate starts in the held bytes before this index were already ruled out.
  #scanFrom = 0;
  #error: Error | null = null;

  /**
   * Creates a decoder.
   *
   * @param options The delimiter, the largest frame, and what to do with
   * trailing bytes at the end.
   */
  constructor(options: DelimiterDecoderOptions) {
    const what = "Cannot create decoder";
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${what}: expected options with a delimiter, got ${typeName(options)}`);
    }
    this.#delim = toDelimiter(options.delimiter, what);
    this.#max = checkSize(options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE, `${what}: maxFrameSize`);
    this.#emitUnterminated = emitsUnterminated(options.unterminated, what);
  }

  /** Bytes held for the frame in progress. */
  get buffered(): number {
    return this.#partial.length;
  }

  /**
   * Feeds the next bytes of the stream.
   *
   * @param chunk Bytes as they arrived; not kept after the call.
   * @returns The frames this chunk completed, without the delimiter, in order.
   * @throws {RangeError} When a frame is longer than `maxFrameSize`.
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
      this.#partial.clear();
      this.#scanFrom = 0;
      if (frames.length === 0) throw error;
    }
    return frames;
  }

  /**
   * Declares the end of the stream.
   *
   * @returns The trailing bytes as a last frame when there are some and the
   * decoder was told to emit them; otherwise nothing.
   * @throws {SyntaxError} When bytes are left that no delimiter ended and
   * the decoder was not told to emit them.
   */
  end(): Uint8Array[] {
    if (this.#error) throw this.#error;
    const held = this.#partial.length;
    this.#scanFrom = 0;
    if (held === 0) return [];
    if (!this.#emitUnterminated) {
      this.#partial.clear();
      throw new SyntaxError(
        `Cannot decode frame: input ended in the middle of a frame (${held} bytes buffered)`,
      );
    }
    if (held > this.#max) {
      this.#partial.clear();
      throw new RangeError(`Cannot decode frame: length ${held} exceeds the limit of ${this.#max}`);
    }
    return [this.#partial.take(held, EMPTY)];
  }

  #decode(chunk: Uint8Array, frames: Uint8Array[]): void {
    const delim = this.#delim;
    const partial = this.#partial;
    let start = 0;
    if (partial.length > 0) {
      const held = partial.length;
      // A delimiter may start in the held tail and end in this chunk.
      let found = -1;
      for (let p = this.#scanFrom; p < held && found < 0; p++) {
        if (this.#matchesAcross(p, chunk)) found = p;
      }
      if (found < 0) {
        const i = indexOfDelimiter(chunk, delim, 0);
        if (i >= 0) found = held + i;
      }
      if (found < 0) {
        this.#hold(chunk, 0);
        return;
      }
      this.#checkLength(found);
      frames.push(
        found < held
          ? partial.take(found, EMPTY)
          : partial.take(held, chunk.subarray(0, found - held)),
      );
      start = found + delim.length - held;
      this.#scanFrom = 0;
    }
    const slicer = new ChunkSlicer(chunk);
    while (true) {
      const i = indexOfDelimiter(chunk, delim, start);
      if (i < 0) break;
      this.#checkLength(i - start);
      frames.push(slicer.frame(start, i));
      start = i + delim.length;
    }
    this.#hold(chunk, start);
  }

  /** Whether the delimiter starts at held byte `p`, reading on into `chunk`. */
  #matchesAcross(p: number, chunk: Uint8Array): boolean {
    const delim = this.#delim;
    const held = this.#partial.length;
    if (p + delim.length > held + chunk.length) return false;
    for (let k = 0; k < delim.length; k++) {
      const at = p + k;
      const byte = at < held ? this.#partial.at(at) : chunk[at - held];
      if (byte !== delim[k]) return false;
    }
    return true;
  }

  /** Keeps `chunk[start..]` for the next push, refusing to hold past the limit. */
  #hold(chunk: Uint8Array, start: number): void {
    const total = this.#partial.length + chunk.length - start;
    // Beyond max + delimiter - 1 bytes no delimiter can end a frame within the limit.
    if (total > this.#max + this.#delim.length - 1) {
      throw new RangeError(
        `Cannot decode frame: no delimiter within the limit of ${this.#max} bytes`,
      );
    }
    if (chunk.length > start) this.#partial.append(chunk.subarray(start));
    this.#scanFrom = Math.max(0, total - this.#delim.length + 1);
  }

  #checkLength(length: number): void {
    if (length > this.#max) {
      throw new RangeError(
        `Cannot decode frame: length ${length} exceeds the limit of ${this.#max}`,
      );
    }
  }
}
