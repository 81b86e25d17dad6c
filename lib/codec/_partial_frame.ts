// The bytes of the one frame a decoder is in the middle of. Decoders cut
// complete frames straight out of the incoming chunk and only copy the
// unfinished tail here, so each byte is copied at most once into this
// buffer; doubling growth keeps the appends amortised O(1), with no
// concatenation of the whole history on every chunk.

const KEEP_CAPACITY = 1 << 16;

/** A growable byte buffer holding a partial frame. */
export class PartialFrame {
  #buf = new Uint8Array(0);
  #length = 0;

  /** Bytes held. */
  get length(): number {
    return this.#length;
  }

  /** The byte at `index` (which must be below `length`). */
  at(index: number): number {
    return this.#buf[index];
  }

  /** Appends bytes. */
  append(bytes: Uint8Array): void {
    const needed = this.#length + bytes.length;
    if (needed > this.#buf.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2, 64));
      grown.set(this.#buf.subarray(0, this.#length));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#length);
    this.#length = needed;
  }

  /**
   * Returns a fresh array of the first `head` held bytes followed by `tail`,
   * and empties the buffer.
   */
  take(head: number, tail: Uint8Array): Uint8Array {
    const out = new Uint8Array(head + tail.length);
    out.set(this.#buf.subarray(0, head));
    out.set(tail, head);
    this.clear();
    return out;
  }

  /** Empties the buffer; gives back memory a huge frame made it take. */
  clear(): void {
    this.#length = 0;
    if (this.#buf.length > KEEP_CAPACITY) this.#buf = new Uint8Array(0);
  }
}
