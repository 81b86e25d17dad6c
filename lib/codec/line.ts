/**
 * Line framing: frames end with LF (`\n`) or CRLF (`\r\n`), as in SMTP,
 * Redis inline commands, IRC or JSON lines. {@linkcode encodeLine} writes a
 * line, {@linkcode LineDecoder} cuts a byte stream into lines.
 *
 * @module
 */
import { ChunkSlicer } from "./_chunk_slicer.ts";
import { checkBytes, checkSize, emitsUnterminated, typeName } from "./_check.ts";
import { PartialFrame } from "./_partial_frame.ts";
import type { FrameDecoder } from "./types.ts";

/** The bytes that end a line. */
export type LineTerminator = "\n" | "\r\n";

/** Options for {@linkcode LineDecoder}. */
export interface LineDecoderOptions {
  /**
   * What ends a line:
   * - `"any"` (default): LF, with the CR before it dropped when there is one
   *   (a CR elsewhere is data);
   * - `"\n"`: LF only; a CR before it stays in the line;
   * - `"\r\n"`: CRLF only; a lone LF is data.
   */
  terminator?: "any" | LineTerminator;
  /**
   * Longest line accepted, in bytes, the terminator not counted. Reaching it
   * without a terminator throws a `RangeError` without buffering more.
   * Default 65536.
   */
  maxLineLength?: number;
  /**
   * What {@linkcode LineDecoder.end} does with a last line that has no
   * terminator: `"error"` (default) throws a `SyntaxError`, `"emit"` returns it.
   */
  unterminated?: "error" | "emit";
}

const LF = 0x0a;
const CR = 0x0d;
const DEFAULT_MAX_LINE_LENGTH = 1 << 16;
const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * Encodes one line: the text or bytes, then the terminator.
 *
 * @param line The line, without terminator; a string is encoded as UTF-8.
 * @param terminator `"\n"` (default) or `"\r\n"`.
 * @returns A fresh array holding the line and its terminator.
 * @throws {TypeError} When the line contains an LF (it would split in two),
 * or ends with a CR while the terminator is `"\n"` (a reader accepting
 * CRLF would drop that CR).
 *
 * @example LF and CRLF lines
 * ```ts
 * import { encodeLine } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(encodeLine("PING"), new TextEncoder().encode("PING\n"));
 * assert.deepEqual(encodeLine("EHLO x", "\r\n"), new TextEncoder().encode("EHLO x\r\n"));
 * assert.throws(() => encodeLine("two\nlines"), TypeError);
 * ```
 */
export function encodeLine(
  line: string | Uint8Array,
  terminator: LineTerminator = "\n",
): Uint8Array {
  if (terminator !== "\n" && terminator !== "\r\n") {
    throw new TypeError(
      `Cannot encode line: terminator ${JSON.stringify(terminator)} is not "\\n" or "\\r\\n"`,
    );
  }
  const bytes = typeof line === "string"
    ? encoder.encode(line)
    : checkBytes(line, "Cannot encode line");
  const lf = bytes.indexOf(LF);
  if (lf >= 0) {
    throw new TypeError(`Cannot encode line: it contains a line feed at byte ${lf}`);
  }
  if (terminator === "\n" && bytes.length > 0 && bytes[bytes.length - 1] === CR) {
    throw new TypeError(
      `Cannot encode line: it ends with a carriage return, which a reader accepting CRLF would drop`,
    );
  }
  const out = new Uint8Array(bytes.length + terminator.length);
  out.set(bytes);
  if (terminator === "\r\n") out[bytes.length] = CR;
  out[out.length - 1] = LF;
  return out;
}

/**
 * Cuts a byte stream into lines (see {@linkcode FrameDecoder} for the
 * push/end contract). Lines come out as bytes without their terminator;
 * decode them with a `TextDecoder` when they are text.
 *
 * Memory stays bounded: at most `maxLineLength + 1` bytes are held (the
 * extra byte is a CR that may start a CRLF). A line that reaches the limit
 * without a terminator throws a `RangeError`.
 *
 * @example LF and CRLF lines, split anywhere
 * ```ts
 * import { LineDecoder } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const text = new TextDecoder();
 * const decoder = new LineDecoder();
 * const bytes = new TextEncoder().encode("+OK\r\nhel");
 * assert.deepEqual(decoder.push(bytes).map((l) => text.decode(l)), ["+OK"]);
 * const rest = new TextEncoder().encode("lo\na\rb\n");
 * assert.deepEqual(decoder.push(rest).map((l) => text.decode(l)), ["hello", "a\rb"]);
 * assert.deepEqual(decoder.end(), []);
 * ```
 *
 * @example A last line without terminator
 * ```ts
 * import { LineDecoder } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const strict = new LineDecoder();
 * strict.push(new TextEncoder().encode("tail"));
 * assert.throws(() => strict.end(), SyntaxError);
 *
 * const lenient = new LineDecoder({ unterminated: "emit" });
 * lenient.push(new TextEncoder().encode("tail"));
 * assert.deepEqual(lenient.end(), [new TextEncoder().encode("tail")]);
 * ```
 */
export class LineDecoder implements FrameDecoder {
  #mode: "any" | LineTerminator;
  #max: number;
  #emitUnterminated: boolean;
  #partial = new PartialFrame();
  #error: Error | null = null;

  /**
   * Creates a decoder.
   *
   * @param options Accepted terminators, longest line, and what to do with
   * an unterminated last line.
   */
  constructor(options: LineDecoderOptions = {}) {
    const what = "Cannot create decoder";
    const mode = options.terminator ?? "any";
    if (mode !== "any" && mode !== "\n" && mode !== "\r\n") {
      throw new TypeError(
        `${what}: terminator ${JSON.stringify(mode)} is not "any", "\\n" or "\\r\\n"`,
      );
    }
    this.#mode = mode;
    this.#max = checkSize(
      options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH,
      `${what}: maxLineLength`,
    );
    this.#emitUnterminated = emitsUnterminated(options.unterminated, what);
  }

  /** Bytes held for the line in progress. */
  get buffered(): number {
    return this.#partial.length;
  }

  /**
   * Feeds the next bytes of the stream.
   *
   * @param chunk Bytes as they arrived; not kept after the call.
   * @returns The lines this chunk completed, without terminators, in order.
   * @throws {RangeError} When a line is longer than `maxLineLength`.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#error) throw this.#error;
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError(`Cannot decode line: expected a Uint8Array, got ${typeName(chunk)}`);
    }
    const lines: Uint8Array[] = [];
    try {
      this.#decode(chunk, lines);
    } catch (error) {
      this.#error = error as Error;
      this.#partial.clear();
      if (lines.length === 0) throw error;
    }
    return lines;
  }

  /**
   * Declares the end of the stream.
   *
   * @returns The unterminated last line when there is one and the decoder
   * was told to emit it; otherwise nothing.
   * @throws {SyntaxError} When a last line has no terminator and the
   * decoder was not told to emit it.
   */
  end(): Uint8Array[] {
    if (this.#error) throw this.#error;
    const held = this.#partial.length;
    if (held === 0) return [];
    if (!this.#emitUnterminated) {
      this.#partial.clear();
      throw new SyntaxError(
        `Cannot decode line: input ended in the middle of a line (${held} bytes buffered)`,
      );
    }
    if (held > this.#max) {
      this.#partial.clear();
      throw new RangeError(`Cannot decode line: length ${held} exceeds the limit of ${this.#max}`);
    }
    return [this.#partial.take(held, EMPTY)];
  }

  #decode(chunk: Uint8Array, lines: Uint8Array[]): void {
    const partial = this.#partial;
    const end = chunk.length;
    const slicer = new ChunkSlicer(chunk);
    let start = 0; // where the current line starts in this chunk
    let from = 0; // where the search for the next LF resumes
    while (from < end) {
      const lf = chunk.indexOf(LF, from);
      if (lf < 0) break;
      from = lf + 1;
      const before = lf > start
        ? chunk[lf - 1]
        : partial.length > 0
        ? partial.at(partial.length - 1)
        : -1;
      const crlf = before === CR;
      // In strict CRLF mode a lone LF is data: keep searching.
      if (this.#mode === "\r\n" && !crlf) continue;
      const strip = crlf && this.#mode !== "\n" ? 1 : 0;
      const length = partial.length + (lf - start) - strip;
      if (length > this.#max) {
        throw new RangeError(
          `Cannot decode line: length ${length} exceeds the limit of ${this.#max}`,
        );
      }
      if (partial.length === 0) {
        lines.push(slicer.frame(start, lf - strip));
      } else if (lf - strip >= start) {
        lines.push(partial.take(partial.length, chunk.subarray(start, lf - strip)));
      } else {
        // The CR to drop is the last byte held.
        lines.push(partial.take(partial.length - 1, EMPTY));
      }
      start = lf + 1;
    }
    const held = partial.length + (end - start);
    if (held > this.#max) {
      // One byte over is allowed when it is a CR that may begin a CRLF.
      const last = end > start ? chunk[end - 1] : partial.at(partial.length - 1);
      if (held > this.#max + 1 || this.#mode === "\n" || last !== CR) {
        throw new RangeError(
          `Cannot decode line: no line terminator within the limit of ${this.#max} bytes`,
        );
      }
    }
    if (end > start) partial.append(chunk.subarray(start));
  }
}
