/**
 * Shapes shared by the codecs: byte order and the push-style frame decoder
 * contract every framing implements.
 *
 * @module
 */

/**
 * Byte order. `"big"` is network order (most significant byte first), the
 * default everywhere in this module; `"little"` is what x86 and most ARM
 * systems use in memory.
 */
export type Endian = "big" | "little";

/**
 * A push-style decoder that cuts a byte stream into frames.
 *
 * Bytes go in as they arrive, in chunks of any size; complete frames come
 * out. The decoder copies what it keeps, so the chunk passed to
 * {@linkcode FrameDecoder.push} may be reused at once, and never writes to a
 * frame it returned. Frames completed by one push may be views of one
 * shared copy of that chunk (one allocation per chunk rather than per
 * frame): `.slice()` a small frame you keep for long, so the rest can be
 * freed.
 *
 * When the input breaks the framing (a frame over the size limit, a bad
 * length), the frames completed before the bad bytes are still returned; the
 * error is thrown by that `push()` when it completed no frame, otherwise by
 * the next `push()` or `end()`. After an error the stream is out of sync:
 * every later call throws the same error.
 */
export interface FrameDecoder {
  /**
   * Feeds the next bytes of the stream.
   *
   * @param chunk Bytes as they arrived; not kept after the call returns.
   * @returns The frames this chunk completed, in order (often none).
   */
  push(chunk: Uint8Array): Uint8Array[];
  /**
   * Declares the end of the stream.
   *
   * @returns Frames the end completes (a final unterminated line, when the
   * decoder is told to emit it), usually none. The decoder is then empty and
   * can decode another stream.
   * @throws {SyntaxError} When the stream ended in the middle of a frame.
   */
  end(): Uint8Array[];
  /** Bytes held for the frame in progress. */
  readonly buffered: number;
}
