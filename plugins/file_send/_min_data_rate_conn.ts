// The receiver's minimum data rate: a sender that trickles (one byte every
// 2 s) is never silent for the idle timeout, yet would hold its transfer and
// temporary file for ever. Each read gets a deadline that the bytes received
// push back, as the HTTP responder's minDataRate (Kestrel's
// MinRequestBodyDataRate) does: from the first byte, `graceMs` ahead, each
// byte `1 / bytesPerSecond` s later, never more than `graceMs` ahead of now,
// so a fast start buys no licence to trickle afterwards.
import {
  type Address,
  type Conn,
  type IoOptions,
  type StreamTransport,
  TimeoutError,
  type TimingMarks,
} from "../../lib/transport/mod.ts";
import { FileSendError } from "./protocol.ts";

/**
 * A connection whose reads fail with a `too-slow` {@linkcode FileSendError}
 * once the sender has fallen behind `bytesPerSecond` since its first byte by
 * more than `graceMs`. Silence before the first byte, and any read that times
 * out on its own `timeout`, stay the caller's (`stalled`).
 */
export class MinDataRateConn implements Conn {
  #conn: Conn;
  #bytesPerSecond: number;
  #graceMs: number;
  #firstByteAt: number | undefined;
  #received = 0;
  /** `Date.now()` by which more bytes must have come; `Infinity` before the first. */
  #limit = Infinity;

  /**
   * @param conn The connection read from.
   * @param bytesPerSecond The lowest average rate; 0 turns the check off.
   * @param graceMs Slack before the rate counts.
   */
  constructor(conn: Conn, bytesPerSecond: number, graceMs: number) {
    this.#conn = conn;
    this.#bytesPerSecond = bytesPerSecond;
    this.#graceMs = graceMs;
  }

  get transport(): StreamTransport {
    return this.#conn.transport;
  }
  get localAddr(): Address {
    return this.#conn.localAddr;
  }
  get remoteAddr(): Address {
    return this.#conn.remoteAddr;
  }
  get timings(): TimingMarks {
    return this.#conn.timings;
  }
  get closed(): boolean {
    return this.#conn.closed;
  }

  async read(buffer: Uint8Array, options: IoOptions = {}): Promise<number | null> {
    const limit = this.#limit;
    const own = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    const ownDeadline = Math.min(own, options.deadline ?? Infinity);
    if (limit >= ownDeadline) return this.#count(await this.#conn.read(buffer, options));
    try {
      return this.#count(
        await this.#conn.read(buffer, { signal: options.signal, deadline: limit }),
      );
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      const seconds = (Date.now() - this.#firstByteAt!) / 1000;
      throw new FileSendError(
        "too-slow",
        `Cannot receive file: the sender sent ${this.#received} bytes in ${
          seconds.toFixed(1)
        } s, ` +
          `slower than the minimum of ${this.#bytesPerSecond} bytes/s`,
        "receiver",
        { cause: error },
      );
    }
  }

  write(data: Uint8Array, options?: IoOptions): Promise<void> {
    return this.#conn.write(data, options);
  }
  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }
  close(): void {
    this.#conn.close();
  }
  setNoDelay(enable?: boolean): void {
    this.#conn.setNoDelay(enable);
  }
  setKeepAlive(enable?: boolean): void {
    this.#conn.setKeepAlive(enable);
  }
  [Symbol.dispose](): void {
    this.#conn.close();
  }

  #count(n: number | null): number | null {
    if (n === null || n === 0) return n;
    this.#received += n;
    if (this.#bytesPerSecond === 0) return n;
    const now = Date.now();
    if (this.#firstByteAt === undefined) {
      this.#firstByteAt = now;
      this.#limit = now + this.#graceMs;
    }
    this.#limit = Math.min(this.#limit + n * 1000 / this.#bytesPerSecond, now + this.#graceMs);
    return n;
  }
}
