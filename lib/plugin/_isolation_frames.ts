// Messages between an isolated plugin's process and the host's bridge, as
// frames on a stream: a 4-byte big-endian length, then the message in V8's
// structured-clone format (what postMessage between Workers used), so
// NaN, undefined, Dates and typed arrays cross as they did.
import { deserialize, serialize } from "node:v8";

/** The largest frame either side accepts (an outcome with a large fact). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * A message as one frame.
 *
 * @throws {DOMException} A `DataCloneError` for what structured clone cannot copy.
 */
export function encodeFrame(message: unknown): Uint8Array {
  let body: Uint8Array;
  try {
    body = serialize(message);
  } catch (error) {
    // As postMessage says it: what structured clone cannot copy.
    throw new DOMException(
      error instanceof Error ? error.message : String(error),
      "DataCloneError",
    );
  }
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/**
 * Reads frames from a stream of chunks, in order.
 *
 * @throws {RangeError} When a frame announces more than {@linkcode MAX_FRAME_BYTES}.
 */
export async function* readFrames(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<unknown> {
  let buffered: Uint8Array = new Uint8Array(0);
  for await (const chunk of chunks) {
    buffered = buffered.length === 0 ? chunk : concat(buffered, chunk);
    for (;;) {
      if (buffered.length < 4) break;
      const length = new DataView(buffered.buffer, buffered.byteOffset, 4).getUint32(0);
      if (length > MAX_FRAME_BYTES) {
        throw new RangeError(
          `Cannot read a message from a plugin's process: it announces ${length} bytes, more than the ${MAX_FRAME_BYTES} allowed`,
        );
      }
      if (buffered.length < 4 + length) break;
      yield deserialize(buffered.subarray(4, 4 + length));
      buffered = buffered.subarray(4 + length);
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * A connection's bytes as chunks, read straight into a buffer: cheaper per
 * message than the connection's `readable` stream, on a path every request
 * and reply takes. Each chunk is a copy, so it may be kept.
 */
export async function* chunksOf(conn: Deno.Conn, size = 64 * 1024): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(size);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) return;
    yield buffer.slice(0, n);
  }
}
