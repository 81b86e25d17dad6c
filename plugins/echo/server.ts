/**
 * The echo server role: writes back every byte (or datagram) it receives,
 * over TCP, TLS, Unix sockets or UDP.
 *
 * @module
 */
import type { Context, Service } from "../../lib/plugin/mod.ts";
import {
  type Conn,
  formatAddress,
  serveConnections,
  type ServedConnection,
} from "../../lib/transport/plain.ts";
import {
  bindUdp,
  type Datagram,
  libcUdpRefusal,
  startLibcUdpEcho,
  type UdpSocket,
} from "../../lib/transport/unstable_udp.ts";
import { type OpenedListener, openListener } from "./_listen.ts";
import type { EchoServerParams } from "./params.ts";

// A connection starts with a small buffer; one whose read fills it is a bulk
// transfer and gets the big one, so it moves in few reads (each read is a
// runtime op: 256 KiB reads echo 1.2-1.5x faster than 64 KiB ones, bench/).
// An idle connection holds only its first buffer: 4 KiB keeps 10,000 of them
// small; a connection that fills its buffer is moving bulk data, and gets
// four times more each time, up to 256 KiB.
const START_BUFFER_SIZE = 4 * 1024;
const BULK_BUFFER_SIZE = 256 * 1024;
// After a receive error, wait this long so the UDP loop cannot spin.
const ERROR_PAUSE_MS = 50;

/**
 * Starts an echo server. Stream transports echo each connection
 * independently until the peer closes; UDP sends every datagram back to its
 * sender, with `io` `libc` (or `auto` where `libcUdpRefusal()` allows it) in
 * a Worker of its own through blocking libc calls, with `deno` on the
 * runtime's sockets; both echo and count alike. A UDP service's `facts` say
 * which: `io` `libc` or `deno`, and, when `auto` fell back to `deno`,
 * `fallback` with why.
 *
 * `stats()` counts `connections` (accepted in all), `active`, `rejected`
 * (over `maxConnections`), `idle_closed`, `aborted` (ended by the peer
 * without a clean close: a reset, or TLS without close_notify), `errors`
 * (anything else), `bytes_in`, `bytes_out`;
 * for UDP `datagrams`, `errors`, `bytes_in`, `bytes_out`. `close()` stops
 * listening, closes every connection and resolves once every connection's
 * task has finished.
 *
 * @param params Validated server params.
 * @param ctx The run context; aborting its signal closes the server.
 * @returns The running service.
 * @throws {ConnectionError} When the address cannot be bound.
 * @throws {RangeError} With `io: "libc"` for UDP where that path is refused.
 *
 * @example Echo over TCP on a free loopback port
 * ```ts
 * import { serveEcho } from "@wiretest/wiretest/plugins/echo";
 * import { connectTcp } from "@wiretest/wiretest";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * using ctx = createContext();
 * const service = await serveEcho({
 *   transport: "tcp",
 *   host: "127.0.0.1",
 *   port: 0,
 *   idleTimeoutMs: 0,
 *   maxConnections: 10_000,
 *   io: "auto",
 *   tlsServer: "deno",
 * }, ctx);
 * const conn = await connectTcp({ port: (service.address as Deno.NetAddr).port });
 * await conn.write(new TextEncoder().encode("hi"));
 * const buf = new Uint8Array(2);
 * assert.equal(await conn.read(buf, { timeout: 2000 }), 2);
 * conn.close();
 * await service.close();
 * ```
 */
export async function serveEcho(params: EchoServerParams, ctx: Context): Promise<Service> {
  if (ctx.signal.aborted) throw ctx.signal.reason;
  let service: Service;
  if (params.transport === "udp") {
    const native = params.io === "deno" ? undefined : await serveUdpLibc(params);
    service = typeof native === "object" ? native : serveUdp(params, ctx, ioFacts(native));
  } else {
    service = serveStream(await openListener(params), params, ctx);
  }
  let closing: Promise<void> | undefined;
  const close = () => {
    ctx.signal.removeEventListener("abort", onAbort);
    return closing ??= service.close();
  };
  const onAbort = () => void close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const facts = service.facts ? { facts: service.facts } : {};
  return { address: service.address, stats: service.stats, ...facts, close };
}

// The runtime's sockets: asked for, or (with the reason) what `auto` fell back to.
function ioFacts(fallback: string | undefined): Record<string, string> {
  return fallback === undefined
    ? { io: "deno" }
    : { io: "deno", fallback: `from libc: ${fallback}` };
}

function serveStream(
  opened: OpenedListener,
  params: EchoServerParams,
  ctx: Context,
): Service {
  const { listener } = opened;
  const where = formatAddress(listener.addr);
  const own = { aborted: 0, errors: 0, bytes_in: 0, bytes_out: 0 };

  const echoOne = async (conn: Conn, connection: ServedConnection) => {
    let buffer = new Uint8Array(START_BUFFER_SIZE);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        own.bytes_in += n;
        await conn.write(buffer.subarray(0, n));
        own.bytes_out += n;
        if (n === buffer.length && n < BULK_BUFFER_SIZE) buffer = new Uint8Array(n * 4);
      }
      // A TLS peer gets its close_notify; a TCP peer its FIN.
      await conn.closeWrite();
    } catch (error) {
      // Closed by close() or the idle timeout: that is the plan, not a failure.
      if (connection.closeReason === undefined) {
        const code = (error as { code?: string }).code;
        if (code === "reset" || code === "closed") own.aborted++;
        else own.errors++;
        ctx.log("debug", `echo ${where}: ${(error as Error).message}`);
      }
    }
  };

  const server = serveConnections(listener, echoOne, {
    maxConnections: params.maxConnections,
    idleTimeout: params.idleTimeoutMs,
    // close() closes every connection at once: an echo has nothing to finish.
    drainTimeout: 0,
    // Once per run of failures: out of file descriptors, the loop would
    // otherwise log a line at every retry until connections end.
    onAcceptError: (error, failures) => {
      if (failures === 1) ctx.log("warn", `echo ${where}: ${error.message}`);
    },
  });

  return {
    address: listener.addr,
    stats: () => {
      const s = server.stats();
      return {
        connections: s.accepted,
        active: s.active,
        rejected: s.rejected,
        idle_closed: s.idle_closed,
        aborted: own.aborted,
        errors: own.errors + s.accept_errors + s.handler_errors,
        bytes_in: own.bytes_in,
        bytes_out: own.bytes_out,
      };
    },
    close: async () => {
      await server.close();
      await opened.cleanup();
    },
  };
}

// The UDP echo on the libc path, or why not when `io` is "auto" and that
// path may not be used here.
async function serveUdpLibc(params: EchoServerParams): Promise<Service | string> {
  const refused = libcUdpRefusal([{ hostname: params.host, port: params.port }]) ??
    await startLibcUdpEcho(params.host, params.port);
  if (typeof refused === "string" || "refused" in refused) {
    const reason = typeof refused === "string" ? refused : refused.refused;
    if (params.io === "auto") return reason;
    const where = formatAddress({ transport: "udp", hostname: params.host, port: params.port });
    throw new RangeError(`Cannot listen on ${where}: io "libc" is not available: ${reason}`);
  }
  const echo = refused;
  return {
    address: echo.address,
    facts: { io: "libc" },
    stats: () => {
      const c = echo.counts();
      return {
        datagrams: c.datagramsIn,
        errors: c.sendErrors + (echo.failure ? 1 : 0),
        bytes_in: c.bytesIn,
        bytes_out: c.bytesOut,
      };
    },
    close: () => echo.close(),
  };
}

function serveUdp(
  params: EchoServerParams,
  ctx: Context,
  facts: Record<string, string>,
): Service {
  const socket: UdpSocket = bindUdp({ hostname: params.host, port: params.port });
  const where = formatAddress(socket.addr);
  const stats = { datagrams: 0, errors: 0, bytes_in: 0, bytes_out: 0 };

  const loop = async () => {
    while (!socket.closed) {
      let datagram: Datagram;
      try {
        datagram = await socket.receive();
      } catch (error) {
        if (socket.closed) return;
        stats.errors++;
        ctx.log("warn", `echo ${where}: ${(error as Error).message}`);
        // close() waits for this loop: at most this pause longer.
        await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
        continue;
      }
      stats.datagrams++;
      stats.bytes_in += datagram.data.length;
      try {
        await socket.send(datagram.data, datagram.from);
        stats.bytes_out += datagram.data.length;
      } catch (error) {
        if (socket.closed) return;
        stats.errors++;
        ctx.log("debug", `echo ${where}: ${(error as Error).message}`);
      }
    }
  };
  const running = loop();

  return {
    address: socket.addr,
    facts,
    stats: () => ({ ...stats }),
    close: async () => {
      socket.close();
      await running;
    },
  };
}
