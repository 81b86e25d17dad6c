/**
 * {@linkcode readFrames}: iterate over the frames arriving on a wiretest
 * {@linkcode Conn}.
 *
 * @module
 */
import { ConnectionError } from "../errors.ts";
import { formatAddress } from "../transport/address.ts";
import type { Conn, IoOptions } from "../transport/types.ts";
import { checkSize } from "./_check.ts";
import type { FrameDecoder } from "./types.ts";

/** Options for {@linkcode readFrames}. */
export interface ReadFramesOptions extends IoOptions {
  /** Bytes asked for by each read. Default 65536. */
  bufferSize?: number;
}

/**
 * Reads from a connection and yields the frames a decoder cuts out of it,
 * until the peer ends the stream.
 *
 * `timeout`, `deadline` and `signal` apply to every read: `timeout` bounds
 * how long each read may wait for bytes (a slow but steady peer never trips
 * it), `deadline` bounds the whole iteration. A read that times out throws
 * a `TimeoutError` and leaves both the connection and the decoder usable:
 * call `readFrames` again with the same decoder to go on where it stopped.
 *
 * The connection is not closed, neither at the end nor when the loop is
 * left early.
 *
 * @param conn The connection to read from.
 * @param decoder Cuts the bytes into frames; keeps any partial frame.
 * @param options Timeout, deadline or signal for each read, and the read size.
 * @returns The frames, in order; the caller owns them (see
 * {@linkcode FrameDecoder}).
 * @throws {ConnectionError} With code `"closed"` ("connection closed in the
 * middle of a frame (N bytes buffered)") when the peer ends the stream
 * inside a frame, with the decoder's `SyntaxError` as cause; and whatever
 * a read throws (`TimeoutError`, `ConnectionError`…).
 * @throws {RangeError} When a frame is over the decoder's size limit (and
 * the other errors the decoder throws), after the frames before it.
 *
 * @example Lines from a TCP peer
 * ```ts
 * import { connectTcp, listenTcp } from "@wiretest/wiretest/transport";
 * import { LineDecoder, readFrames } from "@wiretest/wiretest/codec";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp();
 * using client = await connectTcp({ port: listener.addr.port });
 * using server = await listener.accept();
 * await server.write(new TextEncoder().encode("+OK\r\n+PONG\r\n"));
 * await server.closeWrite();
 * const lines: string[] = [];
 * for await (const line of readFrames(client, new LineDecoder(), { timeout: 5000 })) {
 *   lines.push(new TextDecoder().decode(line));
 * }
 * assert.deepEqual(lines, ["+OK", "+PONG"]);
 * ```
 */
export async function* readFrames(
  conn: Conn,
  decoder: FrameDecoder,
  options: ReadFramesOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const { bufferSize, ...io } = options;
  const size = checkSize(bufferSize ?? 65536, "Cannot read frames: bufferSize");
  if (size === 0) throw new RangeError(`Cannot read frames: bufferSize "0" is not positive`);
  // The decoder copies what it keeps, so one buffer serves every read.
  const buffer = new Uint8Array(size);
  while (true) {
    const n = await conn.read(buffer, io);
    if (n === null) break;
    yield* decoder.push(buffer.subarray(0, n));
  }
  const held = decoder.buffered;
  let last: Uint8Array[];
  try {
    last = decoder.end();
  } catch (error) {
    if (error instanceof SyntaxError && held > 0) {
      throw new ConnectionError({
        code: "closed",
        operation: "read",
        address: formatAddress(conn.remoteAddr),
        detail: `connection closed in the middle of a frame (${held} bytes buffered)`,
        cause: error,
      });
    }
    throw error;
  }
  yield* last;
}
