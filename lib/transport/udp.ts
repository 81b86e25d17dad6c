/**
 * UDP: bind a datagram socket, send and receive with deadlines, abort
 * signals and typed errors. Experimental (needs `--unstable-net`): public
 * through `@wiretest/wiretest/unstable-udp` only.
 *
 * @module
 */
import { ConnectionError, toNetError } from "../errors.ts";
import { withDeadline } from "../_internal/deadline.ts";
import { toIoError } from "./_io_error.ts";
import { formatAddress } from "./address.ts";
import type { IoOptions } from "./types.ts";

/**
 * The largest UDP payload over IPv4: 65,535 bytes minus the 8-byte UDP and
 * 20-byte IP headers.
 *
 * @example Checking a payload before sending
 * ```ts
 * import { MAX_UDP_PAYLOAD } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_UDP_PAYLOAD, 65_507);
 * ```
 *
 * @experimental Needs `--unstable-net`.
 */
export const MAX_UDP_PAYLOAD = 65_507;

// One byte more than any datagram, so nothing is ever truncated.
const RECEIVE_BUFFER_SIZE = 65_536;

/**
 * Options for {@linkcode bindUdp}.
 *
 * @experimental Needs `--unstable-net`.
 */
export interface BindUdpOptions {
  /** Address to bind (default `127.0.0.1`: loopback only). */
  hostname?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Set `SO_REUSEADDR`, so the address can be bound although another socket has it. */
  reuseAddress?: boolean;
  /** Loop multicast datagrams sent by this socket back to it. */
  loopback?: boolean;
}

/**
 * Where a datagram goes: a host (IP literal or name) and a port.
 *
 * @experimental Needs `--unstable-net`.
 */
export interface UdpTarget {
  /** Host name or IP literal. */
  hostname: string;
  /** Port, 1–65535. */
  port: number;
}

/**
 * A received datagram.
 *
 * @experimental Needs `--unstable-net`.
 */
export interface Datagram {
  /** Exactly the bytes received, in a buffer of its own that the caller may keep. */
  data: Uint8Array<ArrayBuffer>;
  /** Who sent it. */
  from: Deno.NetAddr;
  /** When it arrived, in `performance.now()` milliseconds. */
  receivedAt: number;
}

/**
 * A bound UDP socket. A receive that times out or is aborted loses nothing:
 * the datagram that arrives later goes to the next receive.
 *
 * @experimental Needs `--unstable-net`.
 */
export interface UdpSocket extends AsyncIterable<Datagram> {
  /** The bound address (with the real port when port 0 was asked). */
  readonly addr: Deno.NetAddr;
  /** `true` once {@linkcode UdpSocket.close} was called. */
  readonly closed: boolean;
  /**
   * Sends one datagram.
   *
   * @throws {RangeError} When `data` is longer than {@linkcode MAX_UDP_PAYLOAD}; nothing is sent.
   */
  send(data: Uint8Array, to: UdpTarget, options?: IoOptions): Promise<void>;
  /**
   * Receives the next datagram.
   *
   * @throws {ConnectionError} With code `closed` when the socket is closed.
   */
  receive(options?: IoOptions): Promise<Datagram>;
  /** Closes the socket; a pending receive ends with a `closed` error. Idempotent. */
  close(): void;
  /** Closes the socket (for `using`). */
  [Symbol.dispose](): void;
}

/**
 * Binds a UDP socket. Binds `127.0.0.1` on a free port unless told
 * otherwise. Iterating the socket yields datagrams until it is closed.
 *
 * @param options Address, port, `reuseAddress` and multicast `loopback`.
 * @returns The socket.
 * @throws {RangeError} When the port is not an integer in 0–65535.
 * @throws {ConnectionError} With code `address-in-use` when the port is taken.
 * @throws {PermissionDeniedError} Without `--allow-net` for that address.
 *
 * @example Sending a datagram to another socket
 * ```ts
 * import { bindUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * using server = bindUdp();
 * using client = bindUdp();
 * await client.send(new TextEncoder().encode("ping"), server.addr, { timeout: 1000 });
 * const { data, from } = await server.receive({ timeout: 1000 });
 * assert.equal(new TextDecoder().decode(data), "ping");
 * assert.equal(from.port, client.addr.port);
 * ```
 *
 * @experimental Needs `--unstable-net`.
 */
export function bindUdp(options: BindUdpOptions = {}): UdpSocket {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const where = formatAddress({ transport: "udp", hostname, port });
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Cannot listen on ${where}: port "${port}" is not an integer in 0-65535`);
  }
  let raw: Deno.DatagramConn;
  try {
    raw = Deno.listenDatagram({
      transport: "udp",
      hostname,
      port,
      reuseAddress: options.reuseAddress,
      loopback: options.loopback,
    });
  } catch (error) {
    throw toNetError(error, "listen", where);
  }
  return new DenoUdpSocket(raw);
}

class DenoUdpSocket implements UdpSocket {
  #conn: Deno.DatagramConn;
  #where: string;
  #closed = false;
  // The native receive in flight. It outlives a receive that timed out, so
  // the datagram it brings goes to the next receive instead of being lost.
  #pending: Promise<Datagram> | null = null;
  // Reused by every native receive: only one is in flight at a time, and each
  // datagram is copied out the moment it arrives.
  #buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);

  constructor(conn: Deno.DatagramConn) {
    this.#conn = conn;
    this.#where = formatAddress(this.addr);
  }

  get addr(): Deno.NetAddr {
    return this.#conn.addr as Deno.NetAddr;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async send(data: Uint8Array, to: UdpTarget, options?: IoOptions): Promise<void> {
    const where = formatAddress({ transport: "udp", hostname: to.hostname, port: to.port });
    if (data.length > MAX_UDP_PAYLOAD) {
      throw new RangeError(
        `Cannot send datagram: ${data.length} bytes exceed the UDP payload limit of ${MAX_UDP_PAYLOAD}`,
      );
    }
    if (!Number.isInteger(to.port) || to.port < 1 || to.port > 65535) {
      throw new RangeError(
        `Cannot send datagram to ${where}: port "${to.port}" is not an integer in 1-65535`,
      );
    }
    try {
      await withDeadline(
        options,
        { operation: "send", address: where },
        () => this.#conn.send(data, { transport: "udp", hostname: to.hostname, port: to.port }),
      );
    } catch (error) {
      throw toIoError(error, options, "send", where);
    }
  }

  async receive(options?: IoOptions): Promise<Datagram> {
    if (this.#closed) throw this.#closedError();
    try {
      return await withDeadline(
        options,
        { operation: "receive", address: this.#where },
        (signal) => this.#claim(signal),
      );
    } catch (error) {
      if (this.#closed && !(error instanceof ConnectionError)) throw this.#closedError(error);
      throw toIoError(error, options, "receive", this.#where);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.catch(() => {});
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime: nothing to free.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Datagram> {
    while (!this.#closed) {
      try {
        yield await this.receive();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  // Waits for the shared native receive and claims its datagram. Concurrent
  // receives each get their own datagram; one abandoned by a timeout or abort
  // leaves its datagram for the next receive.
  async #claim(signal: AbortSignal | undefined): Promise<Datagram> {
    while (true) {
      const pending = this.#pending ??= this.#receiveNative();
      let datagram: Datagram;
      try {
        datagram = await pending;
      } catch (error) {
        if (this.#pending === pending) this.#pending = null;
        throw error;
      }
      if (signal?.aborted) throw signal.reason;
      if (this.#pending === pending) {
        this.#pending = null;
        return datagram;
      }
    }
  }

  async #receiveNative(): Promise<Datagram> {
    const [view, from] = await this.#conn.receive(this.#buffer);
    return { data: view.slice(), from: from as Deno.NetAddr, receivedAt: performance.now() };
  }

  #closedError(cause?: unknown): ConnectionError {
    return new ConnectionError({
      code: "closed",
      operation: "receive",
      address: this.#where,
      cause,
    });
  }
}
