/**
 * Unix-domain stream sockets: connect and listen with deadlines.
 *
 * @module
 */
import { checkUnixPath } from "./address.ts";
import { ConnectionError, toNetError } from "../errors.ts";
import { withDeadline } from "../_internal/deadline.ts";
import { toIoError } from "./_io_error.ts";
import { DenoStreamConn, DenoStreamListener } from "./conn.ts";
import type { Conn, IoOptions, Listener } from "./types.ts";

/** Options for {@linkcode connectUnix}. */
export interface ConnectUnixOptions extends IoOptions {
  /** Filesystem path of the socket. */
  path: string;
}

/**
 * Connects to a Unix-domain stream socket.
 *
 * @param options The socket path, timeout or signal.
 * @returns The connection.
 * @throws {ConnectionError} `not-found` when no socket is at the path, `refused` when nobody listens.
 * @throws {RangeError} When the path is longer than 107 bytes (TypeError: empty, or a NUL).
 *
 * @example Connecting to a Unix socket
 * ```ts
 * import { connectUnix, listenUnix } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using listener = listenUnix({ path: `${dir}/echo.sock` });
 * using conn = await connectUnix({ path: `${dir}/echo.sock`, timeout: 1000 });
 * using peer = await listener.accept();
 * assert.equal(conn.transport, "unix");
 * ```
 */
export async function connectUnix(options: ConnectUnixOptions): Promise<Conn> {
  checkUnixPath(options.path);
  const where = `unix:${options.path}`;
  const connectStart = performance.now();
  let raw: Deno.UnixConn;
  try {
    raw = await withDeadline(
      options,
      { operation: "connect", address: where },
      () => Deno.connect({ transport: "unix", path: options.path }),
      (pending) => pending.then((c) => c.close(), () => {}),
    );
  } catch (error) {
    throw toIoError(error, options, "connect", where);
  }
  return new DenoStreamConn(raw, "unix", { connectStart, connectEnd: performance.now() });
}

/** Options for {@linkcode listenUnix}. */
export interface ListenUnixOptions {
  /** Filesystem path for the socket; must not exist unless `replace` is set. */
  path: string;
  /** Remove a stale socket file at `path` first (never a regular file). */
  replace?: boolean;
}

/**
 * Listens on a Unix-domain stream socket.
 *
 * @param options The path, and whether to replace a stale socket.
 * @returns The listener; closing it removes the socket file.
 * @throws {ConnectionError} `address-in-use` when the path exists.
 * @throws {RangeError} When the path is longer than 107 bytes (TypeError: empty, or a NUL).
 *
 * @example Listening in a temporary directory
 * ```ts
 * import { listenUnix } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * using listener = listenUnix({ path: `${dir}/s.sock` });
 * assert.equal(listener.addr.transport, "unix");
 * ```
 */
export function listenUnix(options: ListenUnixOptions): Listener {
  checkUnixPath(options.path);
  if (options.replace) removeStaleSocket(options.path);
  try {
    return new DenoStreamListener(
      Deno.listen({ transport: "unix", path: options.path }),
      "unix",
    );
  } catch (error) {
    throw toNetError(error, "listen", `unix:${options.path}`);
  }
}

function removeStaleSocket(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return;
  }
  if (!info.isSocket) {
    throw new ConnectionError({
      code: "address-in-use",
      operation: "listen",
      address: `unix:${path}`,
      detail: "it exists and is not a socket",
    });
  }
  Deno.removeSync(path);
}
