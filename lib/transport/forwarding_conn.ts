/**
 * A connection that passes everything to another: the base of wrappers
 * that watch or limit some of its calls (the served connections' activity
 * tracking, the file-send receiver's minimum data rate), so each writes
 * only what it changes; a plugin's own wrappers can start from it too.
 *
 * @module
 */
import type { Address, Conn, IoOptions, StreamTransport, TimingMarks } from "./types.ts";

/**
 * Every {@linkcode Conn} member passed to `inner` as it is; a subclass
 * overrides the ones it watches (`read`, `write`, …).
 *
 * @example Counting the bytes read, everything else passed on
 * ```ts
 * import assert from "node:assert/strict";
 * import { ForwardingConn } from "@wiretest/wiretest/transport";
 * import type { Conn, IoOptions } from "@wiretest/wiretest/transport";
 *
 * class Counting extends ForwardingConn {
 *   bytes = 0;
 *   override async read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
 *     const n = await super.read(buffer, options);
 *     this.bytes += n ?? 0;
 *     return n;
 *   }
 * }
 * let closed = false;
 * const inner = { get closed() { return closed; }, close() { closed = true; } };
 * const conn = new Counting(inner as unknown as Conn);
 * conn.close();
 * assert.equal(conn.closed, true);
 * ```
 */
export class ForwardingConn implements Conn {
  /** The connection every call goes to. */
  protected readonly inner: Conn;

  /**
   * Wraps `inner`.
   *
   * @param inner The connection every call goes to.
   */
  constructor(inner: Conn) {
    this.inner = inner;
  }

  /** The inner connection's transport. */
  get transport(): StreamTransport {
    return this.inner.transport;
  }
  /** The inner connection's local end. */
  get localAddr(): Address {
    return this.inner.localAddr;
  }
  /** The inner connection's remote end. */
  get remoteAddr(): Address {
    return this.inner.remoteAddr;
  }
  /** The inner connection's timings. */
  get timings(): TimingMarks {
    return this.inner.timings;
  }
  /** Whether the inner connection is closed. */
  get closed(): boolean {
    return this.inner.closed;
  }
  /** Reads from the inner connection. */
  read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    return this.inner.read(buffer, options);
  }
  /** Writes to the inner connection. */
  write(data: Uint8Array, options?: IoOptions): Promise<void> {
    return this.inner.write(data, options);
  }
  /** Half-closes the inner connection. */
  closeWrite(): Promise<void> {
    return this.inner.closeWrite();
  }
  /** Closes the inner connection. */
  close(): void {
    this.inner.close();
  }
  /** Sets `TCP_NODELAY` on the inner connection. */
  setNoDelay(enable?: boolean): void {
    this.inner.setNoDelay(enable);
  }
  /** Sets `SO_KEEPALIVE` on the inner connection. */
  setKeepAlive(enable?: boolean): void {
    this.inner.setKeepAlive(enable);
  }
  /** Closes the inner connection (for `using`). */
  [Symbol.dispose](): void {
    this.inner.close();
  }
}
