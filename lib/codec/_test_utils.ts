// Helpers shared by the framing tests (not part of the public API).
import type { FrameDecoder } from "./types.ts";

/**
 * Yields every way to cut `bytes` into consecutive non-empty chunks:
 * 2^(n-1) ways for n bytes, from one chunk to n one-byte chunks.
 */
export function* everyChunking(bytes: Uint8Array): Generator<Uint8Array[]> {
  const cuts = bytes.length - 1;
  if (cuts > 16) throw new RangeError(`Cannot chunk: ${bytes.length} bytes is too many`);
  for (let mask = 0; mask < 2 ** cuts; mask++) {
    const chunks: Uint8Array[] = [];
    let start = 0;
    for (let i = 0; i < cuts; i++) {
      if (mask & (1 << i)) {
        chunks.push(bytes.slice(start, i + 1));
        start = i + 1;
      }
    }
    chunks.push(bytes.slice(start));
    yield chunks;
  }
}

/** Cuts `bytes` into chunks of random sizes from 1 to `max`, repeatably. */
export function randomChunks(bytes: Uint8Array, max: number, seed: number): Uint8Array[] {
  let state = seed >>> 0;
  const next = () => {
    // xorshift32: a small repeatable generator, so failures can be replayed.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(next() * max);
    chunks.push(bytes.slice(at, at + size));
    at += size;
  }
  return chunks;
}

/** What feeding a decoder produced. */
export interface Decoded {
  frames: Uint8Array[];
  /** The largest `buffered` seen after any push. */
  maxBuffered: number;
}

/** Pushes every chunk, then ends the decoder; collects frames in order. */
export function decodeAll(decoder: FrameDecoder, chunks: Iterable<Uint8Array>): Decoded {
  const frames: Uint8Array[] = [];
  let maxBuffered = 0;
  for (const chunk of chunks) {
    frames.push(...decoder.push(chunk));
    maxBuffered = Math.max(maxBuffered, decoder.buffered);
  }
  frames.push(...decoder.end());
  return { frames, maxBuffered };
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Text of UTF-8 `bytes`. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
