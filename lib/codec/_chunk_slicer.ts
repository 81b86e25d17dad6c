// Frames that lie whole inside a pushed chunk are views of one copy of that
// chunk, made when the first such frame is found. Allocating an ArrayBuffer
// per small frame costs microseconds; one copy per chunk keeps decoding
// near memcpy speed. The copy is never written again, so each view is the
// caller's to keep.

/** Cuts frames out of one chunk with a single copy. */
export class ChunkSlicer {
  #chunk: Uint8Array;
  #copy: Uint8Array | null = null;
  #base = 0;

  /** Prepares to cut frames from `chunk`, which is read, never kept. */
  constructor(chunk: Uint8Array) {
    this.#chunk = chunk;
  }

  /** Returns `chunk[start..end)` as a view of the copy. */
  frame(start: number, end: number): Uint8Array {
    if (this.#copy === null) {
      // Frames only move forward, so nothing before the first one is needed.
      this.#base = start;
      this.#copy = this.#chunk.slice(start);
    }
    return this.#copy.subarray(start - this.#base, end - this.#base);
  }
}
