/**
 * Resolve, connect TCP and hand over to a TLS handshake, under one timeout: shared by both
 * TLS clients.
 *
 * @module
 */
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { TimeoutError, toNetError } from "../errors.ts";
import { remainingMs, withDeadline } from "../_internal/deadline.ts";
import { checkPort } from "../_internal/check_port.ts";
import { abortReason } from "./_node_tls_conn.ts";
import { formatAddress } from "./address.ts";
import { connectTcp } from "./tcp.ts";
import type { Conn, IoOptions } from "./types.ts";

/** What both clients' connect options have in common. */
export interface ConnectTarget extends IoOptions {
  readonly hostname?: string;
  readonly port: number;
  readonly noDelay?: boolean;
  readonly keepAlive?: boolean;
}

/**
 * Resolves `options.hostname`, connects TCP and runs `handshake` over the
 * connection, all under one timeout; a timeout names the phase it hit and
 * the whole timeout.
 */
export async function connectThenUpgrade<T>(
  options: ConnectTarget,
  handshake: (tcp: Conn, io: IoOptions, where: string, hostname: string) => Promise<T>,
): Promise<T> {
  const hostname = options.hostname ?? "127.0.0.1";
  checkPort(options.port, "connect");
  const where = formatAddress({ transport: "tcp", hostname, port: options.port });
  // One deadline for all three phases: resolve, connect, handshake.
  const ms = remainingMs(options);
  const io: IoOptions = {
    signal: options.signal,
    deadline: ms === undefined ? undefined : Date.now() + ms,
  };
  try {
    const dnsStart = performance.now();
    const address = await resolveHost(hostname, io, options);
    const dnsEnd = performance.now();
    const tcp = await connectTcp({
      hostname: address,
      port: options.port,
      noDelay: options.noDelay,
      keepAlive: options.keepAlive,
      ...io,
    });
    Object.assign(tcp.timings, { dnsStart, dnsEnd });
    return await handshake(tcp, io, where, hostname);
  } catch (error) {
    throw withWholeTimeout(error, ms);
  }
}

/**
 * `error` to rethrow from a connect of several phases: each phase only knew
 * the time left, so a {@linkcode TimeoutError} is given the whole timeout
 * `ms` (the phase's error kept as its cause); anything else as it is.
 */
export function withWholeTimeout(error: unknown, ms: number | undefined): unknown {
  if (error instanceof TimeoutError && ms !== undefined) {
    return new TimeoutError({
      operation: error.operation,
      address: error.address,
      timeoutMs: ms,
      cause: error,
    });
  }
  return error;
}

/**
 * The address to connect to for `hostname`: itself when an IP literal, else
 * its first lookup answer within `io`'s deadline (operation `resolve`).
 */
export async function resolveHost(
  hostname: string,
  io: IoOptions,
  options: { signal?: AbortSignal },
): Promise<string> {
  if (isIP(hostname)) return hostname;
  try {
    return (await withDeadline(
      io,
      { operation: "resolve", address: hostname },
      () => lookup(hostname),
    )).address;
  } catch (error) {
    throw abortReason(error, options) ?? toNetError(error, "resolve", hostname);
  }
}
