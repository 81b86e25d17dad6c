/**
 * The udp-ping server role: a UDP echo that answers every datagram with the
 * same bytes, to its sender.
 *
 * @module
 */
import { formatAddress } from "../../lib/transport/mod.ts";
import {
  bindUdp,
  libcUdpRefusal,
  startLibcUdpEcho,
  type UdpSocket,
} from "../../lib/transport/unstable_udp.ts";
import type { Context, Service } from "../../lib/plugin/mod.ts";
import type { UdpPingServerParams } from "./params.ts";
import { HEADER_SIZE, WARM_UP_MAGIC } from "./_packet.ts";

// A client's warm-up ping: counted apart, so the other counters match what
// clients timed (_warm_up.ts).
const WARM_UP_PING = { magic: WARM_UP_MAGIC, minLength: HEADER_SIZE };

/**
 * Binds a UDP socket and echoes every datagram back to its sender, byte for
 * byte. One receive loop sends each echo before taking the next datagram and
 * keeps no queue, so a flood costs no memory: what the loop cannot keep up
 * with, the kernel drops.
 *
 * With `io` `libc` (or `auto` where `libcUdpRefusal()` allows it) the loop
 * is blocking libc calls in a Worker of its own; with `deno` the runtime's
 * sockets. Both echo the same bytes and count the same way. The service's
 * `facts` say which: `io` `libc` or `deno`, and, when `auto` fell back to
 * `deno`, `fallback` with why (e.g. FFI for libc not granted).
 *
 * `stats()` counts `datagrams_in`, `datagrams_out`, `bytes_in`, `bytes_out`
 * and `send_errors` (echoes the kernel refused, e.g. when its buffers were
 * full; the loop goes on). A udp-ping client's warm-up pings (at least 20
 * bytes starting with "WTUW") are echoed like the rest but counted only in
 * `warm_up_in` (and `send_errors`), so `datagrams_in` is what clients timed.
 * The service closes when `ctx.signal` aborts.
 *
 * @param params Where to bind.
 * @param ctx The run's context (its signal closes the service).
 * @returns The running service; `close()` resolves once the loop has ended.
 * @throws {ConnectionError} With code `address-in-use` when the port is taken.
 * @throws {PermissionDeniedError} Without `--allow-net` for that address.
 * @throws {RangeError} With `io: "libc"` where that path is refused.
 *
 * @example Echoing one datagram
 * ```ts
 * import { serveUdpPing } from "@wiretest/wiretest/plugins/udp-ping";
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import { bindUdp } from "@wiretest/wiretest/unstable-udp";
 * import assert from "node:assert/strict";
 *
 * using ctx = createContext();
 * const service = await serveUdpPing({ host: "127.0.0.1", port: 0, io: "auto" }, ctx);
 * using client = bindUdp();
 * await client.send(new Uint8Array([1, 2, 3]), service.address as Deno.NetAddr);
 * const { data } = await client.receive({ timeout: 1000 });
 * assert.deepEqual(data, new Uint8Array([1, 2, 3]));
 * assert.equal(service.stats().datagrams_in, 1);
 * assert.ok(service.facts?.io === "libc" || service.facts?.io === "deno");
 * await service.close();
 * ```
 */
export async function serveUdpPing(
  params: UdpPingServerParams,
  ctx: Context,
): Promise<Service> {
  ctx.signal.throwIfAborted();
  let fallback: string | undefined;
  if (params.io !== "deno") {
    const native = await serveNative(params, ctx);
    if (typeof native === "object") return native;
    fallback = native;
  }
  // Fact `fallback` says why `auto` could not use libc.
  const facts: Record<string, string> = fallback === undefined
    ? { io: "deno" }
    : { io: "deno", fallback: `from libc: ${fallback}` };
  return serveWithDeno(params, ctx, facts);
}

// The echo on the libc path, or why not when `io` is "auto" and that path
// may not be used here.
async function serveNative(
  params: UdpPingServerParams,
  ctx: Context,
): Promise<Service | string> {
  const refused = libcUdpRefusal([{ hostname: params.host, port: params.port }]) ??
    await startLibcUdpEcho(params.host, params.port, false, WARM_UP_PING);
  if (typeof refused === "string" || "refused" in refused) {
    const reason = typeof refused === "string" ? refused : refused.refused;
    if (params.io === "auto") return reason;
    const where = formatAddress({ transport: "udp", hostname: params.host, port: params.port });
    throw new RangeError(`Cannot listen on ${where}: io "libc" is not available: ${reason}`);
  }
  const echo = refused;
  const where = formatAddress(echo.address);
  ctx.log("info", `udp-ping server listening on ${where} (libc I/O)`);
  const close = () => {
    ctx.signal.removeEventListener("abort", onAbort);
    return echo.close();
  };
  const onAbort = () => void close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  return {
    address: echo.address,
    facts: { io: "libc" },
    stats: () => {
      const c = echo.counts();
      return {
        datagrams_in: c.datagramsIn,
        datagrams_out: c.datagramsOut,
        bytes_in: c.bytesIn,
        bytes_out: c.bytesOut,
        send_errors: c.sendErrors,
        warm_up_in: c.apart,
        ...(c.receiveDrops === undefined ? {} : { receive_drops: c.receiveDrops }),
      };
    },
    close,
  };
}

function serveWithDeno(
  params: UdpPingServerParams,
  ctx: Context,
  facts: Record<string, string>,
): Promise<Service> {
  let socket: UdpSocket;
  try {
    socket = bindUdp({ hostname: params.host, port: params.port });
  } catch (error) {
    return Promise.reject(error);
  }
  const where = formatAddress(socket.addr);
  const stats: EchoStats = {
    datagrams_in: 0,
    datagrams_out: 0,
    bytes_in: 0,
    bytes_out: 0,
    send_errors: 0,
    warm_up_in: 0,
  };
  const loop = echoLoop(socket, stats).catch((error) => {
    ctx.log("error", `udp-ping server on ${where} stopped: ${errorText(error)}`);
  });
  ctx.log("info", `udp-ping server listening on ${where}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      ctx.signal.removeEventListener("abort", onAbort);
      socket.close();
      await loop;
    })();
  const onAbort = () => void close();
  ctx.signal.addEventListener("abort", onAbort, { once: true });

  return Promise.resolve({
    address: socket.addr,
    facts,
    stats: () => ({ ...stats }),
    close,
  });
}

interface EchoStats {
  datagrams_in: number;
  datagrams_out: number;
  bytes_in: number;
  bytes_out: number;
  send_errors: number;
  warm_up_in: number;
}

function isWarmUpPing(data: Uint8Array): boolean {
  return data.length >= WARM_UP_PING.minLength &&
    new DataView(data.buffer, data.byteOffset, 4).getUint32(0) === WARM_UP_PING.magic;
}

async function echoLoop(socket: UdpSocket, stats: EchoStats): Promise<void> {
  while (!socket.closed) {
    let datagram;
    try {
      datagram = await socket.receive();
    } catch (error) {
      if (socket.closed) return;
      throw error;
    }
    const warmUp = isWarmUpPing(datagram.data);
    if (warmUp) stats.warm_up_in++;
    else {
      stats.datagrams_in++;
      stats.bytes_in += datagram.data.length;
    }
    try {
      // Awaited before the next receive: backpressure instead of a queue.
      await socket.send(datagram.data, datagram.from);
      if (!warmUp) {
        stats.datagrams_out++;
        stats.bytes_out += datagram.data.length;
      }
    } catch {
      if (socket.closed) return;
      // One refused echo (full kernel buffer, vanished sender) must not stop the service.
      stats.send_errors++;
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
