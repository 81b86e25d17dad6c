// A Conn over a `node:tls` TLSSocket. Deno's own TLS client cannot report
// the peer certificate or the protocol version, nor finish a handshake whose
// verification failed (to report why), so the TLS client runs on `node:tls`,
// which Deno implements over rustls.
//
// The TLS session runs over a Duplex that reads our own Conn, unless
// `nodeSocket` asks for a socket node opened: pausing a node TLS socket in
// Deno does not stop it reading from the network, so only a gate on our own
// reads can hold a peer back; on node's own socket a cap on unread bytes
// fails the connection instead (maxUnreadBytes).
import type { TLSSocket } from "node:tls";
import { Duplex } from "node:stream";
import { ConnectionError, type NetOperation, toNetError } from "../errors.ts";
import { withDeadline } from "../_internal/deadline.ts";
import { formatAddress } from "./address.ts";
import type { Address, Conn, IoOptions, TimingMarks } from "./types.ts";
import type { TlsConn, TlsInfo } from "./tls_conn.ts";

/** Unread bytes above which the connection stops reading from the network. */
const READ_HIGH_WATER = 1 << 20;

/** Size of each read from the connection under the TLS session. */
const READ_CHUNK = 64 * 1024;

/** Holds back reads from the network while the reader is behind. */
export class ReadGate {
  #open = true;
  #waiters: (() => void)[] = [];

  /** Stops further reads. */
  close(): void {
    this.#open = false;
  }

  /** Lets reads go on. */
  open(): void {
    this.#open = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Runs `read` now, or once the gate opens. */
  pass(read: () => void): void {
    if (this.#open) read();
    else this.#waiters.push(read);
  }
}

/** What a TLS session runs over: its addresses, socket options and close. */
export type Underlying = Pick<
  Conn,
  "localAddr" | "remoteAddr" | "close" | "setNoDelay" | "setKeepAlive"
>;

/** What {@linkcode NodeTlsConn} needs besides the socket. */
export interface NodeTlsConnInit {
  /** Facts about the negotiated session. */
  tls: TlsInfo;
  /** Marks already taken; `firstByte` is added here. */
  timings: TimingMarks;
  /** The connection the session runs over: addresses and socket options. */
  underlying: Underlying;
  /** The gate on reads from `underlying` (see {@linkcode connDuplex}). */
  gate: ReadGate;
  /**
   * For a session on a `node:net` socket, which the gate cannot hold back
   * (in Deno it reads on while paused): unread bytes above this fail the
   * connection instead of growing without bound.
   */
  maxUnreadBytes?: number;
}

/** Node error codes that mean the TLS layer failed, not the TCP one. */
const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/;

/**
 * Maps an error from a `node:tls` socket: TLS-level failures become
 * `ConnectionError` code `"tls"` with the runtime's reason, the rest go
 * through {@linkcode toNetError}.
 */
export function toTlsNetError(error: unknown, operation: NetOperation, address: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === "string" && TLS_CODE.test(code)) {
    return new ConnectionError({
      code: "tls",
      operation,
      address,
      detail: error.message,
      cause: error,
    });
  }
  return toNetError(error, operation, address);
}

/** The signal's own reason when `error` is it: an abort rejects with it unchanged. */
export function abortReason(error: unknown, options: IoOptions | undefined): unknown {
  const signal = options?.signal;
  return signal?.aborted && error === signal.reason ? error : undefined;
}

/** The {@linkcode TlsConn} returned by `connectTls` and `startTls`. */
export class NodeTlsConn implements TlsConn {
  readonly transport = "tls" as const;
  readonly tls: TlsInfo;
  readonly timings: TimingMarks;
  #socket: TLSSocket;
  #underlying: Underlying;
  #gate: ReadGate;
  #maxUnread: number;
  #peer: string;
  // Bytes that arrived and were not read yet. The socket keeps reading into
  // this queue whatever the reader does, so a timed-out read loses nothing;
  // the gate stops reads above READ_HIGH_WATER so a peer cannot fill memory.
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #socketClosed = false;
  #reset = false;
  #closed = false;
  #writeEnded = false;
  #wake = new Set<() => void>();

  constructor(socket: TLSSocket, init: NodeTlsConnInit) {
    this.#socket = socket;
    this.#underlying = init.underlying;
    this.#gate = init.gate;
    this.#maxUnread = init.maxUnreadBytes ?? Infinity;
    this.tls = init.tls;
    this.timings = init.timings;
    this.#peer = formatAddress(init.underlying.remoteAddr);
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
      this.#notify();
    });
    socket.on("close", (hadError: boolean) => {
      this.#socketClosed = true;
      if (hadError) this.#reset = true;
      this.#notify();
    });
    socket.on("drain", () => this.#notify());
  }

  get localAddr(): Address {
    return this.#underlying.localAddr;
  }

  get remoteAddr(): Address {
    return this.#underlying.remoteAddr;
  }

  get closed(): boolean {
    return this.#closed || this.#reset;
  }

  async read(buffer: Uint8Array, options?: IoOptions): Promise<number | null> {
    this.#checkOpen("read");
    if (buffer.length === 0) return 0;
    if (!this.#readable()) {
      try {
        await withDeadline(
          options,
          { operation: "read", address: this.#peer },
          (signal) => this.#until(() => this.#readable(), signal),
        );
      } catch (error) {
        throw abortReason(error, options) ?? toTlsNetError(error, "read", this.#peer);
      }
    }
    this.#checkOpen("read");
    if (this.#buffered > 0) return this.#take(buffer);
    if (this.#error) throw toTlsNetError(this.#error, "read", this.#peer);
    if (this.#ended) return null;
    throw this.#closedError("read");
  }

  async write(data: Uint8Array, options?: IoOptions): Promise<void> {
    this.#checkOpen("write");
    if (this.#error) throw toTlsNetError(this.#error, "write", this.#peer);
    if (this.#socketClosed) throw this.#closedError("write");
    if (this.#writeEnded) {
      throw new ConnectionError({
        code: "closed",
        operation: "write",
        address: this.#peer,
        detail: "the write side was closed (closeWrite)",
      });
    }
    try {
      await withDeadline(
        options,
        { operation: "write", address: this.#peer },
        (signal) => this.#write(data, signal),
        () => this.close(),
      );
    } catch (error) {
      throw abortReason(error, options) ?? toTlsNetError(error, "write", this.#peer);
    }
  }

  async closeWrite(): Promise<void> {
    this.#checkOpen("write");
    if (this.#writeEnded) return;
    this.#writeEnded = true;
    let finished = false;
    this.#socket.end(() => {
      finished = true;
      this.#notify();
    });
    await this.#until(() => finished || this.#socketClosed || this.#error !== null);
    if (!finished && this.#error) throw toTlsNetError(this.#error, "write", this.#peer);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    // Closed here too, not only when node tears down the stream over it.
    this.#underlying.close();
    this.#gate.open();
    this.#notify();
  }

  setNoDelay(enable = true): void {
    this.#underlying.setNoDelay(enable);
  }

  setKeepAlive(enable = true): void {
    this.#underlying.setKeepAlive(enable);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #onData(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.timings.firstByte ??= performance.now();
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered >= READ_HIGH_WATER) this.#gate.close();
    if (this.#buffered > this.#maxUnread && this.#error === null) {
      this.#error = new ConnectionError({
        code: "other",
        operation: "read",
        address: this.#peer,
        detail: `the peer sent ${this.#buffered} bytes more than were read, over the ` +
          `${this.#maxUnread} a node:tls socket may hold (it cannot stop reading)`,
      });
      this.#socket.destroy();
    }
    this.#notify();
  }

  #take(buffer: Uint8Array): number {
    let n = 0;
    while (n < buffer.length && this.#chunks.length > 0) {
      const head = this.#chunks[0];
      const k = Math.min(head.length, buffer.length - n);
      buffer.set(head.subarray(0, k), n);
      n += k;
      if (k === head.length) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(k);
    }
    this.#buffered -= n;
    if (this.#buffered < READ_HIGH_WATER) this.#gate.open();
    return n;
  }

  #readable(): boolean {
    return this.#buffered > 0 || this.#ended || this.#error !== null || this.#socketClosed ||
      this.#closed;
  }

  #write(data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    // Copy: the stream may keep the chunk queued after we resolve, and the
    // caller may reuse its buffer as soon as write() returns.
    const flushed = this.#socket.write(data.slice());
    if (flushed) return Promise.resolve();
    const drained = () =>
      !this.#socket.writableNeedDrain || this.#socketClosed || this.#error !== null || this.#closed;
    return this.#until(drained, signal).then(() => {
      if (this.#error) throw this.#error;
      if (this.#socketClosed || this.#closed) throw this.#closedError("write");
    });
  }

  /** Resolves once `ready()` holds, re-checking after every socket event. */
  #until(ready: () => boolean, signal?: AbortSignal): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!ready()) return;
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      const done = () => {
        this.#wake.delete(check);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#wake.add(check);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  #notify(): void {
    for (const wake of [...this.#wake]) wake();
  }

  #checkOpen(operation: NetOperation): void {
    if (this.#closed) throw this.#closedError(operation);
  }

  #closedError(operation: NetOperation): ConnectionError {
    return new ConnectionError({ code: "closed", operation, address: this.#peer });
  }
}

/**
 * A Duplex stream over a {@linkcode Conn}, for `node:tls` to run a session
 * on. It reads only while `gate` is open. Destroying the stream closes the
 * connection.
 */
export function connDuplex(conn: Conn, gate: ReadGate): Duplex {
  return new Duplex({
    // The TLS socket inherits this: the peer's end of stream must not end
    // our side; `closeWrite` decides.
    allowHalfOpen: true,
    read() {
      gate.pass(() => {
        const buffer = new Uint8Array(READ_CHUNK);
        conn.read(buffer).then(
          (n) => this.push(n === null ? null : buffer.subarray(0, n)),
          (error) => this.destroy(error),
        );
      });
    },
    write(chunk: Uint8Array, _encoding, callback) {
      conn.write(chunk).then(() => callback(), callback);
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), callback);
    },
    destroy(error, callback) {
      conn.close();
      callback(error);
    },
  });
}
