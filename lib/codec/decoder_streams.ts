/**
 * Web Streams wrappers around the frame decoders: pipe a byte stream in,
 * read frames out.
 *
 * @module
 */
import { DelimiterDecoder, type DelimiterDecoderOptions } from "./delimiter.ts";
import { LengthPrefixedDecoder, type LengthPrefixedDecoderOptions } from "./length_prefixed.ts";
import { LineDecoder, type LineDecoderOptions } from "./line.ts";
import type { FrameDecoder } from "./types.ts";

/**
 * A `TransformStream` from bytes to frames around any
 * {@linkcode FrameDecoder}. The readable side errors with the decoder's
 * error when the input breaks the framing, after the frames decoded before
 * it, and with a `SyntaxError` when the input ends inside a frame.
 *
 * @example Framing a ReadableStream
 * ```ts
 * import { FrameDecoderStream, LineDecoder } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const bytes = ReadableStream.from([new TextEncoder().encode("a\nb\n")]);
 * const lines = await Array.fromAsync(bytes.pipeThrough(new FrameDecoderStream(new LineDecoder())));
 * assert.equal(lines.length, 2);
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Uint8Array> {
  /**
   * Wraps a decoder.
   *
   * @param decoder The decoder; the stream now owns it.
   */
  constructor(decoder: FrameDecoder) {
    super({
      transform(chunk, controller) {
        for (const frame of decoder.push(chunk)) controller.enqueue(frame);
      },
      flush(controller) {
        for (const frame of decoder.end()) controller.enqueue(frame);
      },
    });
  }
}

/**
 * A {@linkcode FrameDecoderStream} over a {@linkcode LengthPrefixedDecoder}.
 *
 * @example Length-prefixed frames from a stream
 * ```ts
 * import { encodeLengthPrefixed, LengthPrefixedDecoderStream } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const wire = ReadableStream.from([encodeLengthPrefixed("one"), encodeLengthPrefixed("two")]);
 * const frames = await Array.fromAsync(wire.pipeThrough(new LengthPrefixedDecoderStream()));
 * assert.deepEqual(frames.map((f) => new TextDecoder().decode(f)), ["one", "two"]);
 * ```
 */
export class LengthPrefixedDecoderStream extends FrameDecoderStream {
  /**
   * Creates the stream.
   *
   * @param options As for {@linkcode LengthPrefixedDecoder}.
   */
  constructor(options: LengthPrefixedDecoderOptions = {}) {
    super(new LengthPrefixedDecoder(options));
  }
}

/**
 * A {@linkcode FrameDecoderStream} over a {@linkcode LineDecoder}.
 *
 * @example Lines from a stream
 * ```ts
 * import { LineDecoderStream } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const wire = ReadableStream.from([new TextEncoder().encode("+OK\r\n-ERR x\r\n")]);
 * const lines = await Array.fromAsync(wire.pipeThrough(new LineDecoderStream()));
 * assert.deepEqual(lines.map((l) => new TextDecoder().decode(l)), ["+OK", "-ERR x"]);
 * ```
 */
export class LineDecoderStream extends FrameDecoderStream {
  /**
   * Creates the stream.
   *
   * @param options As for {@linkcode LineDecoder}.
   */
  constructor(options: LineDecoderOptions = {}) {
    super(new LineDecoder(options));
  }
}

/**
 * A {@linkcode FrameDecoderStream} over a {@linkcode DelimiterDecoder}.
 *
 * @example NUL-delimited frames from a stream
 * ```ts
 * import { DelimiterDecoderStream } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * const wire = ReadableStream.from([new Uint8Array([1, 0, 2]), new Uint8Array([3, 0])]);
 * const frames = await Array.fromAsync(wire.pipeThrough(new DelimiterDecoderStream({ delimiter: "\0" })));
 * assert.deepEqual(frames, [new Uint8Array([1]), new Uint8Array([2, 3])]);
 * ```
 */
export class DelimiterDecoderStream extends FrameDecoderStream {
  /**
   * Creates the stream.
   *
   * @param options As for {@linkcode DelimiterDecoder}.
   */
  constructor(options: DelimiterDecoderOptions) {
    super(new DelimiterDecoder(options));
  }
}
