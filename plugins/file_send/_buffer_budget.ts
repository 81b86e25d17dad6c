// Receive buffers grow with the data (4 KiB to 1 MiB per buffer), so one
// transfer streams fast; together, transfers streaming at once would still
// reach gigabytes. A receiver's budget caps their sum: past it, a transfer
// keeps the buffers it has and goes on in smaller chunks.

/** Bytes of receive buffers that all transfers of one receiver may hold together. */
export class BufferBudget {
  #limit: number;
  #used = 0;

  /** @param limit Bytes all transfers may hold together. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` if they fit under the limit; returns whether they did. */
  tryTake(bytes: number): boolean {
    if (this.#used + bytes > this.#limit) return false;
    this.#used += bytes;
    return true;
  }

  /** Takes `bytes` whether or not they fit: a transfer's first, small buffers. */
  take(bytes: number): void {
    this.#used += bytes;
  }

  /** Gives back `bytes` taken before. */
  release(bytes: number): void {
    this.#used -= bytes;
  }
}
