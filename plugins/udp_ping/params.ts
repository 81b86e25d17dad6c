/**
 * Params of the udp-ping plugin's two roles: zod schemas with the interfaces
 * users pass (`*Options`) and get after defaults (`*Params`).
 *
 * @module
 */
import { z } from "zod";
import type { ParamsSchema, ParamsTypesMatch } from "../../lib/plugin/mod.ts";
import { checkHost, parseConnectAddress } from "../../lib/transport/mod.ts";
import { MAX_UDP_PAYLOAD, UDP_IO_VALUES, type UdpIo } from "../../lib/transport/unstable_udp.ts";
import { HEADER_SIZE } from "./_packet.ts";
import { WARM_UP_DEFAULT, WARM_UP_MAX, WARM_UP_WAIT_MAX_MS } from "./_warm_up.ts";

const IO_DOC =
  'I/O path: "libc" (blocking libc calls in a Worker, kernel receive timestamps), "deno" (the runtime\'s sockets), "auto" (libc where FFI for libc and net are granted, else deno)';

/**
 * Size of the header every ping carries (magic, run identifier, sequence
 * number, send time), hence the smallest `size` a client accepts.
 *
 * @example The smallest ping
 * ```ts
 * import { UDP_PING_HEADER_SIZE, udpPingClientParams } from "@wiretest/wiretest/plugins/udp-ping";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.equal(UDP_PING_HEADER_SIZE, 20);
 * const params = validateParams(udpPingClientParams, { target: "127.0.0.1:7", size: UDP_PING_HEADER_SIZE });
 * assert.equal(params.size, 20);
 * ```
 */
export const UDP_PING_HEADER_SIZE: number = HEADER_SIZE;

// Most pings one run may send: the per-packet tables stay under about 9 MB.
const MAX_PING_COUNT = 1_000_000;

const HOUR_MS = 3_600_000;

/** What a user passes to the udp-ping server role (every field optional). */
export interface UdpPingServerOptions {
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /**
   * I/O path (default `"auto"`): `"libc"` echoes in a Worker of its own with
   * blocking libc calls through FFI, `"deno"` with the runtime's sockets,
   * `"auto"` takes libc where FFI for libc's path and net are granted.
   */
  io?: UdpIo;
}

/** The udp-ping server role's params after defaults. */
export interface UdpPingServerParams {
  /** Address to bind. */
  host: string;
  /** Port to bind (0: a free one). */
  port: number;
  /** I/O path. */
  io: UdpIo;
}

const udpPingServerSchema = z
  .object({
    host: z.string().superRefine(issueFrom(checkHost)).default("127.0.0.1")
      .describe("Address to bind"),
    port: z.number().int().min(0).max(65535).default(0).describe(
      "UDP port to bind; 0 picks a free one",
    ),
    io: z.enum(UDP_IO_VALUES as [UdpIo, ...UdpIo[]]).default("auto").describe(IO_DOC),
  });

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<
  typeof udpPingServerSchema,
  UdpPingServerParams,
  UdpPingServerOptions
>;

/**
 * Schema of the udp-ping server role's params.
 *
 * @example Defaults
 * ```ts
 * import { udpPingServerParams } from "@wiretest/wiretest/plugins/udp-ping";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(validateParams(udpPingServerParams, {}), {
 *   host: "127.0.0.1",
 *   port: 0,
 *   io: "auto",
 * });
 * assert.throws(() => validateParams(udpPingServerParams, { port: 70_000 }), /"port"/);
 * ```
 */
export const udpPingServerParams: ParamsSchema<UdpPingServerParams, UdpPingServerOptions> =
  udpPingServerSchema;

/** What a user passes to the udp-ping client role (only `target` is required). */
export interface UdpPingClientOptions {
  /** The echo peer, `host:port`. */
  target: string;
  /** Pings to send (default 10, at most 1,000,000). */
  count?: number;
  /**
   * Milliseconds between sends (default 100). Pings go out on this schedule
   * whatever the replies, as `ping` does. 0 means flood mode: the next ping
   * leaves as soon as the previous one is answered or timed out, so exactly
   * one is outstanding at a time.
   */
  intervalMs?: number;
  /** Bytes per datagram, header included: 20 to 65,507 (default 64). */
  size?: number;
  /** Milliseconds a ping may wait for its reply (default 1000); a later reply counts as late. */
  timeoutMs?: number;
  /**
   * Untimed warm-up pings sent first (default 5, at most 1,000; 0 sends
   * none): one at a time to the target from the same socket, each waited for
   * up to `timeoutMs` but at most 1 s; the first without an echo in time ends
   * the warm-up. They carry a magic of their own, so their echoes, even late
   * ones, are in no metric; the `warm_up` fact counts them.
   */
  warmUp?: number;
  /**
   * I/O path (default `"auto"`): `"libc"` runs the pings in a Worker of its
   * own with blocking libc calls through FFI and times arrivals with the
   * kernel's receive timestamps, `"deno"` uses the runtime's sockets and
   * `performance.now()`, `"auto"` takes libc where FFI for libc's path and
   * net are granted. The outcome's `io` and `clock` facts say which measured.
   */
  io?: UdpIo;
}

/** The udp-ping client role's params after defaults. */
export interface UdpPingClientParams {
  /** The echo peer, `host:port`. */
  target: string;
  /** Pings to send. */
  count: number;
  /** Milliseconds between sends; 0 for flood mode (one outstanding). */
  intervalMs: number;
  /** Bytes per datagram, header included. */
  size: number;
  /** Milliseconds a ping may wait for its reply. */
  timeoutMs: number;
  /** Untimed warm-up pings sent first (0: none). */
  warmUp: number;
  /** I/O path. */
  io: UdpIo;
}

// A transport check as a params refinement: its message is the issue.
function issueFrom(check: (text: string) => unknown) {
  return (text: string, ctx: z.RefinementCtx): void => {
    try {
      check(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  };
}

const udpPingClientSchema = z
  .object({
    target: z.string().superRefine(issueFrom(parseConnectAddress))
      .describe("Echo peer to ping, host:port"),
    count: z.number().int().min(1).max(MAX_PING_COUNT).default(10).describe(
      "Pings to send",
    ),
    intervalMs: z.number().min(0).max(HOUR_MS).default(100).describe(
      "Milliseconds between sends, whatever the replies; 0 floods with one ping outstanding",
    ),
    size: z.number().int().min(HEADER_SIZE).max(MAX_UDP_PAYLOAD).default(64).describe(
      `Bytes per datagram including the ${HEADER_SIZE}-byte header (at most ${MAX_UDP_PAYLOAD})`,
    ),
    timeoutMs: z.number().min(1).max(HOUR_MS).default(1000).describe(
      "Milliseconds a ping waits for its reply; later replies count as late, not received",
    ),
    warmUp: z.number().int().min(0).max(WARM_UP_MAX).default(WARM_UP_DEFAULT).describe(
      `Untimed pings sent first, one at a time, each waited for up to timeoutMs (at most ${WARM_UP_WAIT_MAX_MS} ms); the first unanswered one ends the warm-up; their echoes count in no metric; 0 sends none`,
    ),
    io: z.enum(UDP_IO_VALUES as [UdpIo, ...UdpIo[]]).default("auto").describe(IO_DOC),
  });

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<
  typeof udpPingClientSchema,
  UdpPingClientParams,
  UdpPingClientOptions
>;

/**
 * Schema of the udp-ping client role's params. A `size` beyond the UDP
 * payload limit (65,507 bytes) is a params error, so nothing is sent.
 *
 * @example Defaults and a located error
 * ```ts
 * import { udpPingClientParams } from "@wiretest/wiretest/plugins/udp-ping";
 * import { ParamsError, validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(udpPingClientParams, { target: "127.0.0.1:7" });
 * assert.deepEqual(
 *   [params.count, params.intervalMs, params.size, params.timeoutMs, params.warmUp],
 *   [10, 100, 64, 1000, 5],
 * );
 * assert.throws(
 *   () => validateParams(udpPingClientParams, { target: "127.0.0.1:7", size: 65_508 }),
 *   (e: unknown) => e instanceof ParamsError && e.issues[0].path[0] === "size",
 * );
 * ```
 */
export const udpPingClientParams: ParamsSchema<UdpPingClientParams, UdpPingClientOptions> =
  udpPingClientSchema;
