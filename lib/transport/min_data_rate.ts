/**
 * The minimum-data-rate rule, in the spirit of Kestrel's
 * MinRequestBodyDataRate / MinResponseDataRate: a peer that trickles (one
 * byte every 2 s) is never silent, so an idle timeout alone would let it
 * hold a connection for ever. The HTTP responder's bodies and answers and
 * the file-send receiver's transfers both keep this one rule; a plugin's own
 * server can keep it too.
 *
 * @module
 */

/**
 * The deadline a peer's bytes must keep ahead of, on a clock the caller
 * chooses (`performance.now()` or `Date.now()`: every `now` given must come
 * from the same one):
 *
 * - reading, the deadline starts `graceMs` ahead of {@linkcode start} and
 *   every byte received moves it `1 / bytesPerSecond` s later, never more
 *   than `graceMs` ahead of now: a burst buys no licence to trickle
 *   afterwards;
 * - writing `n` bytes, whose progress is not visible until the write ends,
 *   gets {@linkcode writeAllowance} `graceMs + n / bytesPerSecond` s.
 *
 * `bytesPerSecond` 0 turns it off: {@linkcode enabled} is `false` and no
 * deadline is ever set.
 *
 * @example Bytes push the deadline back, at most the grace ahead of now
 * ```ts
 * import assert from "node:assert/strict";
 * import { MinDataRateDeadline } from "@wiretest/wiretest/transport";
 *
 * const rate = new MinDataRateDeadline(100, 5000); // 10 ms a byte
 * assert.equal(rate.start(0), 5000);
 * assert.equal(rate.received(10, 1000), 5100); // 100 ms more for 10 bytes
 * assert.equal(rate.received(1_000_000, 1000), 6000); // not past now + grace
 * assert.equal(rate.writeAllowance(1000), 15_000);
 * ```
 */
export class MinDataRateDeadline {
  /** The lowest average rate, bytes a second; 0: none. */
  readonly bytesPerSecond: number;
  /** Slack before the rate counts, and the most a burst can buy, ms. */
  readonly graceMs: number;
  #msPerByte: number;
  #deadline: number | undefined;

  /**
   * Sets the rule; nothing is measured until {@linkcode start}.
   *
   * @param bytesPerSecond The lowest average rate; 0 turns the rule off.
   * @param graceMs Slack before the rate counts.
   */
  constructor(bytesPerSecond: number, graceMs: number) {
    this.bytesPerSecond = bytesPerSecond;
    this.graceMs = graceMs;
    this.#msPerByte = bytesPerSecond > 0 ? 1000 / bytesPerSecond : 0;
  }

  /** `false` when the rate is 0: nothing is measured. */
  get enabled(): boolean {
    return this.#msPerByte > 0;
  }

  /** The current read deadline on the caller's clock, or `undefined` while not reading. */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /**
   * Starts measuring reads at `now`.
   *
   * @returns The deadline, `now + graceMs` (`Infinity` when off).
   */
  start(now: number): number {
    if (!this.enabled) return Infinity;
    return this.#deadline = now + this.graceMs;
  }

  /**
   * Credits `count` bytes received at `now`; nothing before {@linkcode start}.
   *
   * @returns The new deadline, or `undefined` while not reading.
   */
  received(count: number, now: number): number | undefined {
    if (this.#deadline === undefined) return undefined;
    return this.#deadline = Math.min(this.#deadline + count * this.#msPerByte, now + this.graceMs);
  }

  /**
   * Ends a read measure: {@linkcode received} does nothing until the next
   * {@linkcode start}.
   */
  stop(): void {
    this.#deadline = undefined;
  }

  /**
   * How long a write of `count` bytes may take, ms (`Infinity` when off).
   *
   * @param count The bytes written.
   * @returns `graceMs + count / bytesPerSecond` s, in ms.
   */
  writeAllowance(count: number): number {
    return this.enabled ? this.graceMs + count * this.#msPerByte : Infinity;
  }
}
