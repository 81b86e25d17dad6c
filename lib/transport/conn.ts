/**
 * {@linkcode Conn} and {@linkcode Listener} over Deno's own stream sockets
 * (`Deno.Conn`, `Deno.TlsConn`, `Deno.Listener`), shared by the TCP, Unix and
 * TLS transports.
 *
 * @module
 */
import { ConnectionError } from "../errors.ts";
import { remainingMs, withDeadline } from "../_internal/deadline.ts";
import { toIoError } from "./_io_error.ts";
import { formatAddress } from "./address.ts";
import type { Address, Conn, IoOptions, Listener, StreamTransport, TimingMarks } from "./types.ts";

/**
 * A {@linkcode Conn} over a `Deno.Conn`. Use the transports' `connect*` and
 * `listen*` functions rather than constructing it.
 *
 * @example Wrapping an accepted Deno connection
 * ```ts
 * import { DenoStreamConn } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * const raw = await Deno.connect({ hostname: "127.0.0.1", port });
 * using conn = new DenoStreamConn(raw, "tcp");
 * using peer = await listener.accept();
 * await conn.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * assert.equal(await peer.read(buf), 2);
 * ```
 */
export class DenoStreamConn implements Conn {
  /** The transport underneath. */
  readonly transport: StreamTransport;
  /** When each phase of the connection happened. */
  readonly timings: TimingMarks;
  #conn: Deno.Conn;
  #closed = false;
  #peer: string;
  // A read abandoned by a timeout keeps running into #scratch; the next read
  // collects its bytes, so a timed-out read loses nothing.
  #pending: Promise<number | null> | null = null;
  #scratch: Uint8Array | null = null;
  #leftover: Uint8Array | null = null;

  /**
   * Wraps a Deno connection.
   *
   * @param conn The Deno connection; this object now owns it.
   * @param transport What runs underneath.
   * @param timings Marks already taken (connect start and end…).
   */
  constructor(conn: Deno.Conn, transport: StreamTransport, timings: TimingMarks = {}) {
    this.#conn = conn;
    this.transport = transport;
    this.timings = timings;
    this.#peer = formatAddress(conn.remoteAddr as Address);
  }

  /** The local end. */
  get localAddr(): Address {
    return this.#conn.localAddr as Address;
  }

  /** The remote end. */
  get remoteAddr(): Address {
    return this.#conn.remoteAddr as Address;
  }

  /** `true` once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * `true` while a read that timed out is still waiting on the socket, or
   * the bytes it brought wait for the next read: the stream is not at a
   * clean boundary, so handing {@linkcode DenoStreamConn.raw} to another
   * reader (e.g. `Deno.startTls`) would lose them.
   */
  get hasPendingRead(): boolean {
    return this.#pending !== null || this.#leftover !== null;
  }

  /** The wrapped Deno connection, for APIs that need it (e.g. `Deno.startTls`). */
  get raw(): Deno.Conn {
    return this.#conn;
  }

  /**
   * Reads up to `buffer.length` bytes.
   *
   * @param buffer Where to put the bytes.
   * @param options Timeout, deadline or signal for this read.
   * @returns The number of bytes read, or `null` at end of stream.
   */
  async read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    if (this.#leftover) return this.#takeLeftover(buffer);
    // Validate before a native read starts, so a bad option loses no bytes.
    if (options !== undefined) remainingMs(options);
    const bounded = options &&
      (options.timeout !== undefined || options.deadline !== undefined || options.signal);
    if (!bounded && !this.#pending) {
      // Fast path: no deadline, read straight into the caller's buffer.
      try {
        const n = await this.#conn.read(buffer);
        this.#markFirstByte(n);
        return n;
      } catch (error) {
        throw this.#fail(error, options, "read");
      }
    }
    if (!this.#pending) {
      // One scratch buffer for the life of the connection: only one read is
      // ever in flight, and leftovers are drained before it is reused.
      if (!this.#scratch || this.#scratch.length < buffer.length) {
        this.#scratch = new Uint8Array(buffer.length);
      }
      this.#pending = this.#conn.read(this.#scratch.subarray(0, buffer.length));
    }
    const pending = this.#pending;
    let n: number | null;
    try {
      n = await withDeadline(options, { operation: "read", address: this.#peer }, () => pending);
    } catch (error) {
      if (this.#pending === pending && !isTimeoutOrAbort(error, options)) this.#pending = null;
      throw this.#fail(error, options, "read");
    }
    this.#pending = null;
    this.#markFirstByte(n);
    if (n === null) return null;
    this.#leftover = this.#scratch!.subarray(0, n);
    return this.#takeLeftover(buffer);
  }

  /**
   * Writes every byte of `data`. A write that times out closes the connection.
   *
   * @param data The bytes.
   * @param options Timeout, deadline or signal for the whole write.
   */
  async write(data: Uint8Array, options?: IoOptions): Promise<void> {
    if (options === undefined) {
      // No limit: no deadline bookkeeping (a load run's every request).
      try {
        return await this.#writeAll(data);
      } catch (error) {
        throw this.#fail(error, options, "write");
      }
    }
    try {
      await withDeadline(
        options,
        { operation: "write", address: this.#peer },
        () => this.#writeAll(data),
        () => this.close(),
      );
    } catch (error) {
      throw this.#fail(error, options, "write");
    }
  }

  /** Half-closes the connection: the peer reads end of stream. */
  async closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      throw this.#fail(error, undefined, "write");
    }
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.catch(() => {});
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime (e.g. after a reset): nothing to free.
    }
  }

  /**
   * Sets `TCP_NODELAY`; does nothing on Unix sockets.
   *
   * @param enable On (default) or off.
   */
  setNoDelay(enable = true): void {
    const c = this.#conn as Partial<Deno.TcpConn>;
    if (typeof c.setNoDelay === "function") c.setNoDelay(enable);
  }

  /**
   * Sets `SO_KEEPALIVE`; does nothing on Unix sockets.
   *
   * @param enable On (default) or off.
   */
  setKeepAlive(enable = true): void {
    const c = this.#conn as Partial<Deno.TcpConn>;
    if (typeof c.setKeepAlive === "function") c.setKeepAlive(enable);
  }

  /** Closes the connection (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      off += await this.#conn.write(off === 0 ? data : data.subarray(off));
    }
  }

  // Maps the error; a reset connection is dead, so it counts as closed.
  #fail(error: unknown, options: IoOptions | undefined, operation: "read" | "write"): unknown {
    const mapped = toIoError(error, options, operation, this.#peer);
    if (mapped instanceof ConnectionError && mapped.code === "reset") this.close();
    return mapped;
  }

  #takeLeftover(buffer: Uint8Array): number {
    const left = this.#leftover!;
    const n = Math.min(left.length, buffer.length);
    buffer.set(left.subarray(0, n));
    this.#leftover = n < left.length ? left.subarray(n) : null;
    return n;
  }

  #markFirstByte(n: number | null): void {
    if (n !== null && this.timings.firstByte === undefined) {
      this.timings.firstByte = performance.now();
    }
  }
}

function isDeadBeforeAccept(error: unknown): boolean {
  const name = error instanceof Error ? error.name : "";
  return name === "NotConnected" || name === "ConnectionAborted" || name === "ConnectionReset";
}

function isTimeoutOrAbort(error: unknown, options: IoOptions | undefined): boolean {
  return (error instanceof Error && error.name === "TimeoutError") ||
    (options?.signal?.aborted === true && error === options.signal.reason);
}

/**
 * A {@linkcode Listener} over a `Deno.Listener`. An accept that times out
 * keeps the connection that arrives later for the next accept.
 *
 * @example Accepting with a timeout
 * ```ts
 * import { DenoStreamListener, TimeoutError } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = new DenoStreamListener(Deno.listen({ hostname: "127.0.0.1", port: 0 }), "tcp");
 * await assert.rejects(listener.accept({ timeout: 20 }), TimeoutError);
 * ```
 */
export class DenoStreamListener implements Listener {
  /** The transport it accepts. */
  readonly transport: StreamTransport;
  #listener: Deno.Listener;
  #closed = false;
  #pending: Promise<Deno.Conn> | null = null;
  #where: string;

  /**
   * Wraps a Deno listener.
   *
   * @param listener The Deno listener; this object now owns it.
   * @param transport What the accepted connections run over.
   */
  constructor(listener: Deno.Listener, transport: StreamTransport) {
    this.#listener = listener;
    this.transport = transport;
    this.#where = formatAddress(listener.addr as Address);
  }

  /** The bound address. */
  get addr(): Address {
    return this.#listener.addr as Address;
  }

  /**
   * Accepts the next connection.
   *
   * @param options Timeout, deadline or signal.
   * @returns The connection.
   */
  async accept(options?: IoOptions): Promise<Conn> {
    let raw: Deno.Conn;
    try {
      raw = await withDeadline(
        options,
        { operation: "accept", address: this.#where },
        (signal) => this.#claim(signal),
      );
    } catch (error) {
      throw toIoError(error, options, "accept", this.#where);
    }
    const now = performance.now();
    return new DenoStreamConn(raw, this.transport, { connectStart: now, connectEnd: now });
  }

  // Waits for the shared native accept and claims its connection. Concurrent
  // accepts each get their own connection; one abandoned by a timeout leaves
  // its connection for the next accept.
  async #claim(signal: AbortSignal | undefined): Promise<Deno.Conn> {
    while (true) {
      const pending = this.#pending ??= this.#listener.accept();
      let raw: Deno.Conn;
      try {
        raw = await pending;
      } catch (error) {
        if (this.#pending === pending) this.#pending = null;
        // A client that reset before being accepted is gone, but the
        // listener is fine: wait for the next one instead of failing.
        if (!this.#closed && !signal?.aborted && isDeadBeforeAccept(error)) continue;
        throw error;
      }
      if (signal?.aborted) throw signal.reason;
      if (this.#pending === pending) {
        this.#pending = null;
        return raw;
      }
    }
  }

  /** Stops listening. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.then((c) => c.close(), () => {});
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  /** Closes the listener (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Yields accepted connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    while (!this.#closed) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }
}
