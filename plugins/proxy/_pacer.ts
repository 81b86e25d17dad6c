// When the bandwidth toxic lets each piece of a stream go: a link of `rate`
// bytes per millisecond that carries one piece after another.

/**
 * How far behind its schedule a paced stream may be and still catch up, in
 * milliseconds. A timer that fires late is made good by sending the next
 * pieces at once, so the rate holds on a busy machine; but a stall longer
 * than this (an event loop blocked, a receiver that stopped reading) is
 * not: the lost time would come out as a burst far above the rate (after a
 * 1 s stall at 500 KB/s, 500 KB at once). So at most this much of the
 * rate ever leaves in one go, beyond one piece.
 */
export const CATCH_UP_MS = 100;

/** The schedule of one paced direction of one connection. */
export class Pacer {
  readonly #rate: number;
  #nextFree = -Infinity;

  /** @param rate Bytes per millisecond (the toxic's KB/s), above 0. */
  constructor(rate: number) {
    this.#rate = rate;
  }

  /**
   * When `bytes` that arrived at `arrived` have crossed the link, all times
   * `performance.now()` values: after the pieces scheduled before them,
   * never before they arrived, and never from a start more than
   * {@linkcode CATCH_UP_MS} before `now`.
   */
  due(bytes: number, arrived: number, now: number): number {
    const start = Math.max(arrived, this.#nextFree, now - CATCH_UP_MS);
    this.#nextFree = start + bytes / this.#rate;
    return this.#nextFree;
  }
}
