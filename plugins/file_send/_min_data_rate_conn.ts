// The receiver's minimum data rate: a sender that trickles (one byte every
// 2 s) is never silent for the idle timeout, yet would hold its transfer and
// temporary file for ever. Each read gets a deadline that the bytes received
// push back, by the rule the HTTP responder's minDataRate keeps too
// (lib/transport/min_data_rate.ts), from the sender's first byte.
import {
  type Conn,
  ForwardingConn,
  type IoOptions,
  MinDataRateDeadline,
  TimeoutError,
} from "../../lib/transport/mod.ts";
import { FileSendError } from "./protocol.ts";

/**
 * A connection whose reads fail with a `too-slow` {@linkcode FileSendError}
 * once the sender has fallen behind `bytesPerSecond` since its first byte by
 * more than `graceMs`. Silence before the first byte, and any read that times
 * out on its own `timeout`, stay the caller's (`stalled`).
 */
export class MinDataRateConn extends ForwardingConn {
  #rate: MinDataRateDeadline;
  #firstByteAt: number | undefined;
  #received = 0;

  /**
   * @param conn The connection read from.
   * @param bytesPerSecond The lowest average rate; 0 turns the check off.
   * @param graceMs Slack before the rate counts.
   */
  constructor(conn: Conn, bytesPerSecond: number, graceMs: number) {
    super(conn);
    this.#rate = new MinDataRateDeadline(bytesPerSecond, graceMs);
  }

  override async read(buffer: Uint8Array, options: IoOptions = {}): Promise<number | null> {
    // `Date.now()` by which more bytes must have come; `Infinity` before the first.
    const limit = this.#rate.deadline ?? Infinity;
    const own = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    const ownDeadline = Math.min(own, options.deadline ?? Infinity);
    if (limit >= ownDeadline) return this.#count(await this.inner.read(buffer, options));
    try {
      return this.#count(
        await this.inner.read(buffer, { signal: options.signal, deadline: limit }),
      );
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      const seconds = (Date.now() - this.#firstByteAt!) / 1000;
      throw new FileSendError(
        "too-slow",
        `Cannot receive file: the sender sent ${this.#received} bytes in ${
          seconds.toFixed(1)
        } s, ` +
          `slower than the minimum of ${this.#rate.bytesPerSecond} bytes/s`,
        "receiver",
        { cause: error },
      );
    }
  }

  #count(n: number | null): number | null {
    if (n === null || n === 0) return n;
    this.#received += n;
    if (!this.#rate.enabled) return n;
    const now = Date.now();
    if (this.#firstByteAt === undefined) {
      this.#firstByteAt = now;
      this.#rate.start(now);
    }
    this.#rate.received(n, now);
    return n;
  }
}
