// Messages between an isolated plugin's process and the host's bridge, as
// frames on a stream: a 4-byte big-endian length, then the message in V8's
// structured-clone format (what postMessage used when plugins ran in Workers), so
// NaN, undefined, Dates and typed arrays cross as they did. A message of
// plain JSON values (most: a probe's params and outcome) goes as JSON text
// instead, which both ends make and read in a fraction of the time and
// which comes back the same: the reader tells them by the first byte (V8's
// format starts with its version tag, 0xFF; a JSON object with "{").
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
    body = plainObject(message) ? encoder.encode(JSON.stringify(message)) : serialize(message);
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
  // Chunks kept as they came until a frame is whole, then copied once: a
  // large frame in many chunks costs its size, not its size per chunk (a
  // 60 MiB frame in 64 KiB reads took 31 s joined chunk by chunk).
  const pending = new Chunks();
  let length = -1;
  for await (const chunk of chunks) {
    pending.push(chunk);
    for (;;) {
      if (length < 0) {
        if (pending.bytes < 4) break;
        const head = pending.take(4);
        length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
        if (length > MAX_FRAME_BYTES) {
          throw new RangeError(
            `Cannot read a message from a plugin's process: it announces ${length} bytes, more than the ${MAX_FRAME_BYTES} allowed`,
          );
        }
      }
      if (pending.bytes < length) break;
      const body = pending.take(length);
      length = -1;
      yield body[0] === OPEN_BRACE ? JSON.parse(decoder.decode(body)) : deserialize(body);
    }
  }
}

// Received bytes not yet read, as the chunks they came in.
class Chunks {
  #list: Uint8Array[] = [];
  bytes = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#list.push(chunk);
    this.bytes += chunk.length;
  }

  // The next `n` bytes (at most `bytes`): a view when one chunk holds them, else one copy.
  take(n: number): Uint8Array {
    this.bytes -= n;
    const first = this.#list[0];
    if (n === 0) return new Uint8Array(0);
    if (first.length >= n) {
      if (first.length === n) this.#list.shift();
      else this.#list[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.#list[0];
      const used = Math.min(head.length, n - filled);
      out.set(head.subarray(0, used), filled);
      filled += used;
      if (used === head.length) this.#list.shift();
      else this.#list[0] = head.subarray(used);
    }
    return out;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OPEN_BRACE = 0x7b;
// Deeper messages go in V8's format.
const MAX_JSON_DEPTH = 32;

// An object whose JSON text parses back to an equal one: plain objects and
// dense arrays of strings, booleans, null and finite numbers other than -0.
// (Both formats keep only own enumerable string keys.)
function plainObject(message: unknown): boolean {
  return typeof message === "object" && message !== null && !Array.isArray(message) &&
    plainJson(message, 0);
}

function plainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        // Other own keys (a match array's `index`) V8's format keeps and JSON drops.
        if (Object.keys(value).length !== value.length) return false;
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !plainJson(value[i], depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!plainJson((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
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

/**
 * Writes frames to a connection in order, each whole (a write may take part
 * of a frame), without a WritableStream's promises and queue on the way: a
 * probe's request and reply take this path. After a failed write, the rest
 * is dropped (the other side is gone; its reader reports that).
 */
export class FrameWriter {
  #conn: Deno.Conn;
  #queue: Uint8Array[] = [];
  #writing = false;
  #failed = false;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Queues a frame; it goes after those queued before it. */
  write(frame: Uint8Array): void {
    if (this.#failed) return;
    this.#queue.push(frame);
    if (!this.#writing) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    try {
      for (let frame = this.#queue.shift(); frame; frame = this.#queue.shift()) {
        while (frame.length > 0) frame = frame.subarray(await this.#conn.write(frame));
      }
    } catch {
      this.#failed = true;
      this.#queue = [];
    } finally {
      this.#writing = false;
    }
  }
}
