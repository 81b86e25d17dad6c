// A minimum data rate for the responder's request bodies and responses, in
// the spirit of Kestrel's MinRequestBodyDataRate / MinResponseDataRate: a
// client that trickles a body (one byte every 2 s) or reads an answer that
// slowly is never silent, so the idle timeout alone would keep it forever.
import type { ServedConnection } from "../../lib/transport/mod.ts";

/**
 * Keeps a connection's deadline (`setDeadline`, closed with reason
 * `"deadline"`) in step with `bytesPerSecond`:
 *
 * - reading, the deadline starts `graceMs` ahead and every byte received
 *   moves it `1 / bytesPerSecond` s later, never more than `graceMs` ahead of
 *   now: a burst buys no licence to trickle afterwards;
 * - writing `n` bytes, the write must be done within
 *   `graceMs + n / bytesPerSecond` s (a write's progress is not visible
 *   until it ends, so each write is given its own allowance).
 *
 * `bytesPerSecond` 0 turns it off.
 */
export class MinDataRate {
  #connection: ServedConnection;
  #msPerByte: number;
  #graceMs: number;
  /** `performance.now()` at which the read side runs out, while reading. */
  #readDeadline: number | undefined;

  constructor(connection: ServedConnection, bytesPerSecond: number, graceMs: number) {
    this.#connection = connection;
    this.#msPerByte = bytesPerSecond > 0 ? 1000 / bytesPerSecond : 0;
    this.#graceMs = graceMs;
  }

  /** A body starts arriving. */
  startReading(): void {
    if (this.#msPerByte === 0) return;
    this.#readDeadline = performance.now() + this.#graceMs;
    this.#connection.setDeadline(this.#graceMs);
  }

  /** `count` body bytes arrived. */
  received(count: number): void {
    if (this.#readDeadline === undefined) return;
    const now = performance.now();
    this.#readDeadline = Math.min(
      this.#readDeadline + count * this.#msPerByte,
      now + this.#graceMs,
    );
    this.#connection.setDeadline(Math.max(0, this.#readDeadline - now), this.#graceMs);
  }

  /** A write of `count` bytes starts. */
  writing(count: number): void {
    this.#readDeadline = undefined;
    if (this.#msPerByte === 0) return;
    this.#connection.setDeadline(this.#graceMs + count * this.#msPerByte);
  }

  /** Nothing to measure (a wait of the server's own making, or between requests). */
  stop(): void {
    this.#readDeadline = undefined;
    this.#connection.setDeadline(undefined);
  }
}
