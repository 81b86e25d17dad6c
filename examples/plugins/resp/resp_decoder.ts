/**
 * {@linkcode RespDecoder}: cuts a byte stream of RESP2 replies into values.
 * Header lines (`+OK`, `:42`, `$5`, `*2`) go through wiretest's
 * `LineDecoder`, which buffers a line split across reads and enforces the
 * line length limit; bulk strings are read by their length, so they may hold
 * any bytes, CRLF included.
 *
 * @module
 */
import { LineDecoder } from "@wiretest/wiretest/codec";
import { RespError, RespProtocolError } from "./errors.ts";

/**
 * A decoded reply: a simple string (`+OK` → `"OK"`), an error reply (a
 * {@linkcode RespError}, not thrown), an integer (a `number`, or a `bigint`
 * beyond 2^53), a bulk string (bytes), `null` (`$-1`, `*-1`) or an array.
 */
export type RespValue =
  | string
  | number
  | bigint
  | Uint8Array
  | null
  | RespError
  | RespValue[];

/** Limits of a {@linkcode RespDecoder}; each is checked before anything is buffered. */
export interface RespDecoderOptions {
  /** Largest bulk string accepted, in bytes (default 1 MiB; Redis allows up to 512 MiB). */
  maxBulkSize?: number;
  /** Longest line (a header, a simple string, an error), type byte included, CRLF not (default 64 KiB). */
  maxLineLength?: number;
  /** Most elements in one array (default 1,048,576). */
  maxArrayLength?: number;
  /** Deepest nesting of arrays (default 32). */
  maxDepth?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const INTEGER = /^-?\d{1,19}$/;
const text = new TextDecoder();

/** An array whose elements are still arriving. */
interface OpenArray {
  items: RespValue[];
  remaining: number;
}

/**
 * A push-style RESP2 decoder: feed it bytes as they arrive, get back the
 * replies they complete. After an error the stream is out of sync and every
 * later call throws the same error.
 *
 * @example Replies split anywhere, a bulk string holding CRLF
 * ```ts
 * import { RespDecoder } from "./resp_decoder.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("+PONG\r\n$4\r\na\r\nb\r\n*2\r\n:1\r\n$-1\r\n");
 * const decoder = new RespDecoder();
 * const values = [...decoder.push(bytes.subarray(0, 9)), ...decoder.push(bytes.subarray(9))];
 * assert.deepEqual(values, ["PONG", new TextEncoder().encode("a\r\nb"), [1, null]]);
 * ```
 *
 * @example A bulk string over the limit is refused before it is read
 * ```ts
 * import { RespDecoder } from "./resp_decoder.ts";
 * import assert from "node:assert/strict";
 *
 * const decoder = new RespDecoder({ maxBulkSize: 16 });
 * assert.throws(() => decoder.push(new TextEncoder().encode("$1000000\r\n")), RangeError);
 * ```
 */
export class RespDecoder {
  #lines: LineDecoder;
  #maxLine: number;
  #maxBulk: number;
  #maxArray: number;
  #maxDepth: number;
  #stack: OpenArray[] = [];
  // The bulk string being read: its bytes plus the CRLF after them.
  #bulk: Uint8Array | null = null;
  #bulkFilled = 0;
  #error: Error | null = null;

  /**
   * Creates a decoder.
   *
   * @param options Size limits.
   */
  constructor(options: RespDecoderOptions = {}) {
    this.#maxBulk = limit(options.maxBulkSize, 1 << 20, "maxBulkSize");
    this.#maxLine = limit(options.maxLineLength, 1 << 16, "maxLineLength");
    this.#maxArray = limit(options.maxArrayLength, 1 << 20, "maxArrayLength");
    this.#maxDepth = limit(options.maxDepth, 32, "maxDepth");
    // LF only, so the CR stays in the line and a bare LF can be refused.
    this.#lines = new LineDecoder({ terminator: "\n", maxLineLength: this.#maxLine + 1 });
  }

  /** Bytes held for the line or bulk string in progress. */
  get buffered(): number {
    return this.#lines.buffered + this.#bulkFilled;
  }

  /** Whether a reply has begun and not ended. */
  get inReply(): boolean {
    return this.#lines.buffered > 0 || this.#bulk !== null || this.#stack.length > 0;
  }

  /**
   * Feeds the next bytes of the stream.
   *
   * @param chunk Bytes as they arrived; not kept after the call.
   * @returns The replies this chunk completed, in order.
   * @throws {RespProtocolError} When the bytes are not RESP2.
   * @throws {RangeError} When a line, bulk string, array or nesting is over its limit.
   */
  push(chunk: Uint8Array): RespValue[] {
    if (this.#error) throw this.#error;
    const out: RespValue[] = [];
    try {
      this.#decode(chunk, out);
    } catch (error) {
      this.#error = error as Error;
      throw error;
    }
    return out;
  }

  /**
   * Declares the end of the stream.
   *
   * @throws {RespProtocolError} When it ended inside a reply.
   */
  end(): void {
    if (this.#error) throw this.#error;
    if (this.inReply) {
      this.#error = new RespProtocolError(`the stream ended inside a reply`);
      throw this.#error;
    }
  }

  #decode(chunk: Uint8Array, out: RespValue[]): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#bulk !== null) {
        const bulk = this.#bulk;
        const take = Math.min(bulk.length - this.#bulkFilled, chunk.length - pos);
        bulk.set(chunk.subarray(pos, pos + take), this.#bulkFilled);
        this.#bulkFilled += take;
        pos += take;
        if (this.#bulkFilled < bulk.length) continue;
        if (bulk[bulk.length - 2] !== CR || bulk[bulk.length - 1] !== LF) {
          throw new RespProtocolError(
            `bulk string of ${bulk.length - 2} bytes is not followed by CRLF`,
          );
        }
        this.#bulk = null;
        this.#bulkFilled = 0;
        this.#complete(bulk.subarray(0, bulk.length - 2), out);
        continue;
      }
      // Give the line decoder one line at most, so what follows a `$n` header
      // is read by length, never scanned for line ends.
      const lf = chunk.indexOf(LF, pos);
      if (lf >= 0 && this.#lines.buffered === 0) {
        // A whole line in this chunk and none begun before: read in place,
        // without the line decoder's copy (a reply of a load run, "+PONG").
        if (lf - pos > this.#maxLine + 1) throw lineTooLong(this.#maxLine);
        this.#header(chunk.subarray(pos, lf), out);
        pos = lf + 1;
        continue;
      }
      const end = lf < 0 ? chunk.length : lf + 1;
      let lines: Uint8Array[];
      try {
        lines = this.#lines.push(chunk.subarray(pos, end));
      } catch (error) {
        if (error instanceof RangeError) throw lineTooLong(this.#maxLine, error);
        throw error;
      }
      pos = end;
      for (const line of lines) this.#header(line, out);
    }
  }

  #header(line: Uint8Array, out: RespValue[]): void {
    if (line[line.length - 1] !== CR) {
      throw new RespProtocolError(`a line ends with LF alone, not CRLF`);
    }
    if (line.length < 2) throw new RespProtocolError(`a line is empty`);
    const type = line[0];
    const rest = lineText(line);
    switch (type) {
      case 0x2b: // +
        return this.#complete(rest, out);
      case 0x2d: // -
        return this.#complete(new RespError(rest), out);
      case 0x3a: // :
        return this.#complete(integer(rest, "integer"), out);
      case 0x24: { // $
        const size = length(rest, "bulk string");
        if (size === -1) return this.#complete(null, out);
        if (size > this.#maxBulk) {
          throw new RangeError(
            `Cannot parse RESP reply: bulk string of ${size} bytes exceeds the limit of ${this.#maxBulk}`,
          );
        }
        this.#bulk = new Uint8Array(size + 2);
        this.#bulkFilled = 0;
        return;
      }
      case 0x2a: { // *
        const size = length(rest, "array");
        if (size === -1) return this.#complete(null, out);
        if (size > this.#maxArray) {
          throw new RangeError(
            `Cannot parse RESP reply: array of ${size} elements exceeds the limit of ${this.#maxArray}`,
          );
        }
        if (size === 0) return this.#complete([], out);
        if (this.#stack.length >= this.#maxDepth) {
          throw new RangeError(
            `Cannot parse RESP reply: arrays nest deeper than the limit of ${this.#maxDepth}`,
          );
        }
        this.#stack.push({ items: [], remaining: size });
        return;
      }
      default: {
        const char = String.fromCharCode(type);
        const shown = type >= 0x20 && type < 0x7f ? `"${char}" ` : "";
        throw new RespProtocolError(
          `unknown type byte ${shown}(0x${type.toString(16).padStart(2, "0")})`,
        );
      }
    }
  }

  // Hands a finished value to the array it belongs to, closing every array it
  // completes, or out when it is a whole reply.
  #complete(value: RespValue, out: RespValue[]): void {
    let done = value;
    while (true) {
      const top = this.#stack.at(-1);
      if (top === undefined) {
        out.push(done);
        return;
      }
      top.items.push(done);
      if (--top.remaining > 0) return;
      this.#stack.pop();
      done = top.items;
    }
  }
}

function lineTooLong(maxLine: number, cause?: unknown): RangeError {
  return new RangeError(
    `Cannot parse RESP reply: a line is longer than the limit of ${maxLine} bytes`,
    cause === undefined ? undefined : { cause },
  );
}

// A line's text between its type byte and CR. A short ASCII line (a status,
// a length) is built here: the same string as the decoder's, without a call
// into the runtime.
function lineText(line: Uint8Array): string {
  const end = line.length - 1;
  if (end - 1 > 24) return text.decode(line.subarray(1, end));
  let out = "";
  for (let i = 1; i < end; i++) {
    const c = line[i];
    if (c >= 0x80) return text.decode(line.subarray(1, end));
    out += String.fromCharCode(c);
  }
  return out;
}

function integer(textValue: string, what: string): number | bigint {
  if (!INTEGER.test(textValue)) {
    throw new RespProtocolError(`${what} "${textValue}" is not a decimal integer`);
  }
  const n = BigInt(textValue);
  if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) {
    throw new RespProtocolError(`${what} "${textValue}" does not fit in 64 bits`);
  }
  return Number.isSafeInteger(Number(n)) ? Number(n) : n;
}

function length(textValue: string, what: string): number {
  const n = integer(textValue, `length of ${what}`);
  if (typeof n === "bigint" || n < -1) {
    throw new RespProtocolError(`length of ${what} "${textValue}" is out of range`);
  }
  return n;
}

function limit(value: number | undefined, fallback: number, name: string): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`Cannot create RESP decoder: ${name} "${n}" is not a positive integer`);
  }
  return n;
}
