// The receiver's minimum rate: a sender that trickles (one byte every 2 s)
// is never silent for the idle timeout, yet would hold its transfer and
// temporary file for ever. Each read gets a deadline that the bytes received
// push back, as Apache's mod_reqtimeout MinRate does: from the first byte,
// `graceMs` plus one second per `bytesPerSecond` bytes.
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
 * once the sender has averaged less than `bytesPerSecond` since its first
 * byte, `graceMs` of slack included. Silence before the first byte, and any
 * read that times out on its own `timeout`, stay the caller's (`stalled`).
 */
export class MinRateConn implements Conn {
  #conn: Conn;
  #bytesPerSecond: number;
  #graceMs: number;
  #firstByteAt: number | undefined;
  #received = 0;

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
    const limit = this.#limit();
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

  /** When the bytes so far stop being enough (`Date.now()` ms). */
  #limit(): number {
    if (this.#bytesPerSecond === 0 || this.#firstByteAt === undefined) return Infinity;
    return this.#firstByteAt + this.#graceMs + this.#received * 1000 / this.#bytesPerSecond;
  }

  #count(n: number | null): number | null {
    if (n !== null && n > 0) {
      this.#firstByteAt ??= Date.now();
      this.#received += n;
    }
    return n;
  }
}
