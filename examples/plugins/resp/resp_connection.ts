/**
 * {@linkcode RespConnection}: one connection to a Redis server, sending one
 * command at a time and reading its reply.
 *
 * @module
 */
import {
  type Conn,
  ConnectionError,
  connectTcp,
  formatAddress,
  TimeoutError,
} from "@wiretest/wiretest/transport";
import { encodeCommand } from "./encode_command.ts";
import { RespError } from "./errors.ts";
import { RespDecoder, type RespDecoderOptions, type RespValue } from "./resp_decoder.ts";

/** Options for {@linkcode RespConnection.connect}. */
export interface RespConnectOptions extends RespDecoderOptions {
  /** Host name or IP literal (default `127.0.0.1`). */
  hostname?: string;
  /** Port (Redis listens on 6379 by default). */
  port: number;
  /** Milliseconds the connect, and then each command, may take (default: no limit). */
  timeout?: number;
  /** Absolute time (`Date.now()` milliseconds) by which everything must be done. */
  deadline?: number;
  /** Closes the connection when it aborts; pending commands reject with its reason. */
  signal?: AbortSignal;
}

// Replies of a test workload are small; bulk values larger than this take a
// few reads, which the decoder stitches together.
const READ_BUFFER_SIZE = 64 * 1024;

/**
 * A connection to a Redis server speaking RESP2. Commands go one at a
 * time: {@linkcode RespConnection.command} writes one and waits for its
 * reply. An error reply is thrown as a {@linkcode RespError} and leaves the
 * connection usable; a protocol violation, a size limit, a timeout or an
 * abort closes it.
 *
 * Time limits are kept by one watchdog per connection rather than a timer
 * per read: reads then take the transport's fast path, straight into one
 * reused buffer.
 *
 * @example PING a server (here a stand-in that answers like Redis)
 * ```ts
 * import { RespConnection } from "./resp_connection.ts";
 * import { listenTcp } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp();
 * const serving = (async () => {
 *   using peer = await listener.accept({ timeout: 5000 });
 *   await peer.read(new Uint8Array(64), { timeout: 5000 });
 *   await peer.write(new TextEncoder().encode("+PONG\r\n"));
 * })();
 * using redis = await RespConnection.connect({ port: listener.addr.port, timeout: 5000 });
 * assert.equal(await redis.command(["PING"]), "PONG");
 * await serving;
 * ```
 */
export class RespConnection implements Disposable {
  /** The underlying connection (its `timings` say when it connected). */
  readonly conn: Conn;
  /** The server, `host:port`. */
  readonly address: string;
  #decoder: RespDecoder;
  #buffer = new Uint8Array(READ_BUFFER_SIZE);
  #replies: RespValue[] = [];
  #bytesSent = 0;
  #bytesReceived = 0;
  #timeout: number | undefined;
  #deadline: number | undefined;
  #signal: AbortSignal | undefined;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  // When the command in flight started (performance.now()), and its name.
  #since: number | undefined;
  #command = "";
  // Why the watchdog or the signal closed the connection, to report instead of "closed".
  #reason: unknown;

  private constructor(conn: Conn, decoder: RespDecoder, options: RespConnectOptions) {
    this.conn = conn;
    this.address = formatAddress(conn.remoteAddr);
    this.#decoder = decoder;
    this.#timeout = options.timeout;
    this.#deadline = options.deadline;
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    const limit = Math.min(
      options.timeout ?? Infinity,
      options.deadline === undefined ? Infinity : options.deadline - Date.now(),
    );
    if (limit !== Infinity) {
      // Checked a few times per limit: a timeout fires at most an eighth late.
      const period = Math.min(250, Math.max(5, limit / 8));
      this.#watchdog = setInterval(this.#check, period);
    }
  }

  /**
   * Connects to a Redis server.
   *
   * @param options Where, how long the connect and each command may take, and
   * the decoder's size limits.
   * @returns The connection.
   * @throws {ConnectionError} Refused, unreachable…
   * @throws {TimeoutError} When the timeout or deadline passes first.
   */
  static async connect(options: RespConnectOptions): Promise<RespConnection> {
    const decoder = new RespDecoder(options);
    const conn = await connectTcp({
      hostname: options.hostname,
      port: options.port,
      signal: options.signal,
      timeout: options.timeout,
      deadline: options.deadline,
    });
    return new RespConnection(conn, decoder, options);
  }

  /** Bytes written so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Bytes read so far. */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /**
   * Sends a command and returns its reply.
   *
   * @param args The command name then its arguments.
   * @returns The reply.
   * @throws {RespError} When the server answers with an error reply.
   * @throws {RespProtocolError} When the reply is not RESP2.
   * @throws {RangeError} When the reply is over a size limit.
   * @throws {ConnectionError} When the server closes the connection first.
   * @throws {TimeoutError} When the command takes longer than the timeout, or
   * the deadline passes.
   */
  command(args: readonly (string | Uint8Array)[]): Promise<RespValue> {
    if (this.#reason !== undefined) return Promise.reject(this.#reason);
    return this.commandEncoded(encodeCommand(args), commandName(args[0]));
  }

  /**
   * Sends a command already encoded (a load run sends the same bytes again
   * and again) and returns its reply.
   *
   * @param bytes The command as RESP (see `encodeCommand`).
   * @param name Its name, for errors (`PING`).
   * @returns The reply.
   * @throws What {@linkcode RespConnection.command} throws.
   */
  async commandEncoded(bytes: Uint8Array, name: string): Promise<RespValue> {
    if (this.#reason !== undefined) throw this.#reason;
    this.#command = name;
    this.#since = performance.now();
    let reply: RespValue;
    try {
      await this.conn.write(bytes);
      this.#bytesSent += bytes.length;
      reply = await this.#nextReply();
    } catch (error) {
      throw this.#reason ?? error;
    } finally {
      this.#since = undefined;
    }
    if (reply instanceof RespError) {
      throw new RespError(reply.reply, { command: this.#command, address: this.address });
    }
    return reply;
  }

  async #nextReply(): Promise<RespValue> {
    while (this.#replies.length === 0) {
      const n = await this.conn.read(this.#buffer);
      if (n === null) {
        throw new ConnectionError({
          code: "closed",
          operation: "read",
          address: this.address,
          detail: this.#decoder.inReply
            ? "the server closed the connection in the middle of a reply"
            : "the server closed the connection before replying",
        });
      }
      this.#bytesReceived += n;
      try {
        this.#replies.push(...this.#decoder.push(this.#buffer.subarray(0, n)));
      } catch (error) {
        // The stream is out of sync: nothing later on it can be trusted.
        this.close();
        throw error;
      }
    }
    return this.#replies.shift()!;
  }

  #check = (): void => {
    if (this.#since === undefined) {
      if (this.#deadline !== undefined && Date.now() >= this.#deadline) this.#expire(0);
      return;
    }
    const elapsed = performance.now() - this.#since;
    if (this.#timeout !== undefined && elapsed >= this.#timeout) this.#expire(this.#timeout);
    else if (this.#deadline !== undefined && Date.now() >= this.#deadline) this.#expire(elapsed);
  };

  #expire(ms: number): void {
    this.#stop(
      new TimeoutError({
        operation: this.#command === "" ? "read" : `run ${this.#command}`,
        address: this.address,
        timeoutMs: Math.round(ms),
      }),
    );
  }

  #onAbort = (): void => this.#stop(this.#signal!.reason);

  #stop(reason: unknown): void {
    this.#reason ??= reason;
    this.close();
  }

  /** Closes the connection and stops its watchdog. Idempotent. */
  close(): void {
    clearInterval(this.#watchdog);
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.conn.close();
  }

  /** Closes the connection (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }
}

function commandName(arg: string | Uint8Array | undefined): string {
  const name = typeof arg === "string" ? arg : new TextDecoder().decode(arg);
  return name.toUpperCase();
}
