/**
 * TCP: connect and listen with deadlines, socket options and timing marks.
 *
 * @module
 */
import { toNetError } from "../errors.ts";
import { checkPort } from "../_internal/check_port.ts";
import { withDeadline } from "../_internal/deadline.ts";
import { toIoError } from "./_io_error.ts";
import { formatAddress } from "./address.ts";
import { DenoStreamConn, DenoStreamListener } from "./conn.ts";
import type { Conn, IoOptions, Listener } from "./types.ts";

/** Options for {@linkcode connectTcp}. */
export interface ConnectTcpOptions extends IoOptions {
  /** Host name or IP literal (default `127.0.0.1`). */
  hostname?: string;
  /** Port to connect to. */
  port: number;
  /** Set `TCP_NODELAY` (send small writes at once). Default `true`. */
  noDelay?: boolean;
  /** Set `SO_KEEPALIVE`. Default `false`. */
  keepAlive?: boolean;
}

/**
 * Opens a TCP connection. The timeout covers name resolution and the
 * handshake; timing marks `connectStart`/`connectEnd` are set.
 *
 * @param options Where to connect, socket options, timeout or signal.
 * @returns The connection.
 * @throws {ConnectionError} Refused, unreachable, unresolvable…
 * @throws {TimeoutError} When the timeout or deadline passes first.
 * @throws {PermissionDeniedError} Without `--allow-net` for that host.
 *
 * @example Connecting to a local listener
 * ```ts
 * import { connectTcp, listenTcp } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp({ port: 0 });
 * using conn = await connectTcp({ port: listener.addr.port, timeout: 1000 });
 * using peer = await listener.accept();
 * assert.ok(conn.timings.connectEnd! >= conn.timings.connectStart!);
 * ```
 */
export async function connectTcp(options: ConnectTcpOptions): Promise<Conn> {
  const hostname = options.hostname ?? "127.0.0.1";
  const where = formatAddress({ transport: "tcp", hostname, port: options.port });
  checkPort(options.port, "connect");
  const connectStart = performance.now();
  let raw: Deno.TcpConn;
  try {
    raw = await withDeadline(
      options,
      { operation: "connect", address: where },
      (signal) =>
        signal?.aborted ? Promise.reject(signal.reason) : Deno.connect({
          hostname,
          port: options.port,
          transport: "tcp",
          signal: cancelOnly(signal),
        }),
      (pending) => pending.then((c) => c.close(), () => {}),
    );
  } catch (error) {
    throw toIoError(error, options, "connect", where);
  }
  // An IP literal needs no resolution, so its DNS phase is empty at connect
  // start; a name is resolved inside Deno.connect, which cannot be timed apart.
  const literal = isIpLiteral(hostname);
  const conn = new DenoStreamConn(raw, "tcp", {
    dnsStart: literal ? connectStart : undefined,
    dnsEnd: literal ? connectStart : undefined,
    connectStart,
    connectEnd: performance.now(),
  });
  conn.setNoDelay(options.noDelay ?? true);
  if (options.keepAlive) conn.setKeepAlive(true);
  return conn;
}

/** Options for {@linkcode listenTcp}. */
export interface ListenTcpOptions {
  /** Address to bind (default `127.0.0.1`: loopback only). */
  hostname?: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Set `SO_REUSEPORT` so several processes can share the port (Linux). */
  reusePort?: boolean;
  /** Length of the kernel's queue of not yet accepted connections. */
  backlog?: number;
}

/** A TCP {@linkcode Listener}, whose address always has a host and port. */
export interface TcpListener extends Listener {
  /** The bound address, with the real port. */
  readonly addr: Deno.NetAddr;
}

/**
 * Listens for TCP connections. Binds `127.0.0.1` on a free port unless told
 * otherwise, so tests never collide or expose a port.
 *
 * @param options Address, port, `reusePort` and backlog.
 * @returns The listener.
 * @throws {ConnectionError} With code `address-in-use` when the port is taken.
 *
 * @example Listening on a free loopback port
 * ```ts
 * import { listenTcp } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * using listener = listenTcp();
 * assert.equal(listener.addr.hostname, "127.0.0.1");
 * assert.ok(listener.addr.port > 0);
 * ```
 */
export function listenTcp(options: ListenTcpOptions = {}): TcpListener {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  checkPort(port, "listen");
  let raw: Deno.TcpListener;
  try {
    raw = Deno.listen({
      hostname,
      port,
      transport: "tcp",
      reusePort: options.reusePort,
      tcpBacklog: options.backlog,
    });
  } catch (error) {
    throw toNetError(error, "listen", formatAddress({ transport: "tcp", hostname, port }));
  }
  return new DenoStreamListener(raw, "tcp") as TcpListener;
}

/**
 * A signal for `Deno.connect` that cancels a connect under way when `signal`
 * aborts, and nothing more. Deno 2.9's connect throws its signal's abort from
 * a `finally`, even over a connection it made: aborted after the handshake
 * but before its promise settled (a timeout under load), the connection was
 * open and unreachable, one descriptor lost each time. This signal's
 * `throwIfAborted` does nothing, so such a connection is returned and
 * withDeadline's `onAbandon` closes it.
 */
function cancelOnly(signal: AbortSignal | undefined): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  const controller = new AbortController();
  signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  Object.defineProperty(controller.signal, "throwIfAborted", { value: () => {} });
  return controller.signal;
}

function isIpLiteral(hostname: string): boolean {
  return hostname.includes(":") || /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname);
}
