// A minimum data rate for the responder's request bodies and responses: the
// rule the file-send receiver keeps too (lib/transport/min_data_rate.ts),
// applied through the served connection's deadline.
import { MinDataRateDeadline, type ServedConnection } from "../../lib/transport/mod.ts";

/**
 * Keeps a connection's deadline (`setDeadline`, closed with reason
 * `"deadline"`) in step with `bytesPerSecond` ({@linkcode MinDataRateDeadline}'s
 * rule, on `performance.now()`): a body's deadline starts `graceMs` ahead and
 * its bytes push it back; a write of `n` bytes must be done within
 * `graceMs + n / bytesPerSecond` s.
 *
 * `bytesPerSecond` 0 turns it off.
 */
export class MinDataRate {
  #connection: ServedConnection;
  #rate: MinDataRateDeadline;

  constructor(connection: ServedConnection, bytesPerSecond: number, graceMs: number) {
    this.#connection = connection;
    this.#rate = new MinDataRateDeadline(bytesPerSecond, graceMs);
  }

  /** A body starts arriving. */
  startReading(): void {
    if (!this.#rate.enabled) return;
    this.#rate.start(performance.now());
    this.#connection.setDeadline(this.#rate.graceMs);
  }

  /** `count` body bytes arrived. */
  received(count: number): void {
    const now = performance.now();
    const deadline = this.#rate.received(count, now);
    if (deadline === undefined) return;
    this.#connection.setDeadline(Math.max(0, deadline - now), this.#rate.graceMs);
  }

  /** A write of `count` bytes starts. */
  writing(count: number): void {
    this.#rate.stop();
    if (!this.#rate.enabled) return;
    this.#connection.setDeadline(this.#rate.writeAllowance(count));
  }

  /** Nothing to measure (a wait of the server's own making, or between requests). */
  stop(): void {
    this.#rate.stop();
    this.#connection.setDeadline(undefined);
  }
}
