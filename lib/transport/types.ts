/**
 * The shapes every transport shares: addresses, I/O options with deadlines,
 * timing marks, stream connections and listeners.
 *
 * @module
 */

/** A socket address: `{ transport, hostname, port }` or `{ transport: "unix", path }`. */
export type Address = Deno.NetAddr | Deno.UnixAddr;

/**
 * How long an operation may take. `timeout` is relative (milliseconds from
 * the call), `deadline` absolute (`Date.now()` milliseconds); the earlier
 * wins. 0, or a deadline already past, means the time is up already (the
 * operation fails with a `TimeoutError`); `Infinity` means no limit; any
 * length works, also past the 2^31 - 1 ms `setTimeout` honours. A negative
 * or NaN `timeout` is a `RangeError`. `signal` aborts the operation with
 * the signal's reason.
 */
export interface IoOptions {
  /** Abort the operation when this signal aborts. */
  signal?: AbortSignal;
  /** Milliseconds the operation may take. */
  timeout?: number;
  /** Absolute time (`Date.now()` milliseconds) by which it must finish. */
  deadline?: number;
}

/**
 * When the phases of a connection happened, in `performance.now()`
 * milliseconds. Phases that did not happen (no TLS, nothing read yet) are
 * `undefined`.
 */
export interface TimingMarks {
  /** Name resolution started (equals `connectStart` for IP literals). */
  dnsStart?: number;
  /** Name resolution finished. */
  dnsEnd?: number;
  /** The connect call started. */
  connectStart?: number;
  /** The TCP (or Unix) connection was established. */
  connectEnd?: number;
  /** The TLS handshake finished. */
  tlsEnd?: number;
  /** The first byte was read. */
  firstByte?: number;
}

/** The transport a stream connection runs over. */
export type StreamTransport = "tcp" | "tls" | "unix";

/**
 * A byte-stream connection (TCP, TLS or Unix) with deadlines on every
 * operation and typed errors.
 *
 * A read that times out or is aborted leaves the connection usable: bytes
 * that arrive later are returned by the next read. A write that times out
 * or is aborted closes the connection, because bytes already handed to the
 * kernel cannot be taken back.
 */
export interface Conn {
  /** The transport underneath. */
  readonly transport: StreamTransport;
  /** The local end. */
  readonly localAddr: Address;
  /** The remote end. */
  readonly remoteAddr: Address;
  /** When each phase of the connection happened. */
  readonly timings: TimingMarks;
  /** `true` once {@linkcode Conn.close} was called or the peer reset it. */
  readonly closed: boolean;
  /**
   * Reads up to `buffer.length` bytes.
   *
   * @returns the number of bytes read, or `null` at end of stream.
   */
  read(buffer: Uint8Array, options?: IoOptions): Promise<number | null>;
  /** Writes every byte of `data`. */
  write(data: Uint8Array, options?: IoOptions): Promise<void>;
  /** Half-closes: the peer reads end of stream; this side can still read. */
  closeWrite(): Promise<void>;
  /** Closes the connection; pending reads end with a `closed` error. Idempotent. */
  close(): void;
  /** Sets `TCP_NODELAY` (no-op on Unix sockets). */
  setNoDelay(enable?: boolean): void;
  /** Sets `SO_KEEPALIVE` (no-op on Unix sockets). */
  setKeepAlive(enable?: boolean): void;
  /** Closes the connection (for `using`). */
  [Symbol.dispose](): void;
}

/** A listener that accepts stream connections. */
export interface Listener extends AsyncIterable<Conn> {
  /** The transport it accepts. */
  readonly transport: StreamTransport;
  /** The bound address (with the real port when port 0 was asked). */
  readonly addr: Address;
  /** Accepts the next connection. */
  accept(options?: IoOptions): Promise<Conn>;
  /** Stops listening; a pending accept ends with a `closed` error. Idempotent. */
  close(): void;
  /** Closes the listener (for `using`). */
  [Symbol.dispose](): void;
}
