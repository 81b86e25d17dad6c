/**
 * Params of the echo plugin's two roles: zod schemas with the interfaces
 * users pass (`*Options`) and get after defaults (`*Params`).
 *
 * @module
 */
import { z } from "zod";
import type { ParamsSchema, ParamsTypesMatch } from "../../lib/plugin/mod.ts";
import { checkHost, checkUnixPath, parseConnectAddress } from "../../lib/transport/plain.ts";
import { MAX_UDP_PAYLOAD, UDP_IO_VALUES, type UdpIo } from "../../lib/transport/unstable_udp.ts";

/** The transports the echo plugin speaks. */
export type EchoTransport = "tcp" | "tls" | "unix" | "udp";

const TRANSPORTS = ["tcp", "tls", "unix", "udp"] as const;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const DAY_MS = 86_400_000;

/** What a user passes to the echo server role (every field optional). */
export interface EchoServerOptions {
  /** `tcp` (default), `tls`, `unix` or `udp`. */
  transport?: EchoTransport;
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  /** Port to bind; 0 (default) picks a free one. */
  port?: number;
  /** Unix socket path (default: `echo.sock` in a fresh temporary directory). */
  path?: string;
  /** PEM certificate chain file, for `tls`. */
  cert?: string;
  /** PEM private key file, for `tls`. */
  key?: string;
  /** Close a connection after this long without traffic; 0 means never (default 60000). */
  idleTimeoutMs?: number;
  /**
   * Refuse connections beyond this many open at once (default 10000: about
   * 16 KiB each while idle, up to 256 KiB while moving bulk data).
   */
  maxConnections?: number;
  /**
   * I/O path for `udp` (default `"auto"`): `"libc"` echoes in a Worker of
   * its own with blocking libc calls through FFI, `"deno"` with the
   * runtime's sockets, `"auto"` takes libc where FFI for libc's path, net
   * and read for the Worker's module are granted.
   */
  io?: UdpIo;
  /**
   * TLS server for `tls` (default `"deno"`): `"deno"` is Deno.listenTls,
   * faster, but it keeps the socket of a connection closed mid-handshake
   * until the client leaves (clients that stall handshakes can use up
   * descriptors); `"node"` runs node:tls over our own TCP and frees it at
   * once: use it when untrusted clients can reach the server.
   */
  tlsServer?: "deno" | "node";
}

/** The echo server role's params after defaults. */
export interface EchoServerParams {
  /** The transport. */
  transport: EchoTransport;
  /** Address to bind. */
  host: string;
  /** Port to bind (0: a free one). */
  port: number;
  /** Unix socket path; a temporary one when absent. */
  path?: string;
  /** PEM certificate chain file. */
  cert?: string;
  /** PEM private key file. */
  key?: string;
  /** Idle timeout in milliseconds; 0 means never. */
  idleTimeoutMs: number;
  /** Most connections open at once. */
  maxConnections: number;
  /** I/O path for `udp`. */
  io: UdpIo;
  /** TLS server for `tls`. */
  tlsServer: "deno" | "node";
}

const echoServerSchema = z.object({
  transport: z.enum(TRANSPORTS).default("tcp").describe("Transport: tcp, tls, unix or udp"),
  host: z.string().min(1).default("127.0.0.1").describe("Address to bind"),
  port: z.number().int().min(0).max(65535).default(0).describe("Port to bind; 0 picks a free one"),
  path: z.string().min(1).optional().describe(
    "Unix socket path (transport unix; default: a socket in a fresh temporary directory)",
  ),
  cert: z.string().min(1).optional().describe("PEM certificate chain file (transport tls)"),
  key: z.string().min(1).optional().describe("PEM private key file (transport tls)"),
  idleTimeoutMs: z.number().int().min(0).max(DAY_MS).default(60_000).describe(
    "Close a connection idle this many milliseconds; 0 means never",
  ),
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000).describe(
    "Refuse connections beyond this many open at once (about 16 KiB each while idle, up to 256 KiB moving bulk data)",
  ),
  io: z.enum(UDP_IO_VALUES as [UdpIo, ...UdpIo[]]).default("auto").describe(
    'I/O path for transport udp: "libc" (blocking libc calls in a Worker), "deno" (the runtime\'s sockets), "auto" (libc where FFI for libc and net are granted, else deno)',
  ),
  tlsServer: z.enum(["deno", "node"]).default("deno").describe(
    "TLS server for transport tls: deno (Deno.listenTls, faster; keeps the socket of a connection closed mid-handshake until the client leaves) or node (node:tls over our TCP, frees it at once: use with untrusted clients)",
  ),
}).superRefine((p, ctx) => {
  if (p.transport === "tls") {
    for (const field of ["cert", "key"] as const) {
      if (!p[field]) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `is required for transport "tls" (a PEM file path)`,
        });
      }
    }
  } else {
    for (const field of ["cert", "key"] as const) {
      if (p[field]) onlyFor(ctx, field, "tls", p.transport);
    }
  }
  if (p.path !== undefined && p.transport !== "unix") onlyFor(ctx, "path", "unix", p.transport);
  for (const [field, check] of [["host", checkHost], ["path", checkUnixPath]] as const) {
    const value = p[field];
    const message = value === undefined ? undefined : problemOf(() => check(value));
    if (message !== undefined) ctx.addIssue({ code: "custom", path: [field], message });
  }
});

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof echoServerSchema, EchoServerParams, EchoServerOptions>;

/**
 * Schema of the echo server role's params.
 *
 * @example Defaults and a located error
 * ```ts
 * import { echoServerParams } from "@wiretest/wiretest/plugins/echo";
 * import { ParamsError, validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.equal(validateParams(echoServerParams, {}).idleTimeoutMs, 60_000);
 * assert.throws(
 *   () => validateParams(echoServerParams, { transport: "tls" }),
 *   (e: unknown) => e instanceof ParamsError && e.issues.map((i) => i.path[0]).join() === "cert,key",
 * );
 * ```
 */
export const echoServerParams: ParamsSchema<EchoServerParams, EchoServerOptions> = echoServerSchema;

/** What a user passes to the echo client role (only `target` is required). */
export interface EchoClientOptions {
  /** `host:port`, or `unix:/path` for a Unix socket. */
  target: string;
  /** `tcp`, `tls`, `unix` or `udp` (default `unix` for a `unix:` target, else `tcp`). */
  transport?: EchoTransport;
  /** Text payload (UTF-8). The default payload is `hello`. */
  payload?: string;
  /** Payload as hexadecimal digits (whitespace ignored). */
  payloadHex?: string;
  /**
   * Payload of this many random bytes; beyond 1 MiB, a random block of
   * 1,048,573 bytes repeated, so memory stays flat whatever the size.
   */
  payloadSize?: number;
  /** Round trips per connection (default 1); not with `durationMs`. */
  count?: number;
  /** Connections in parallel (default 1). */
  connections?: number;
  /** Run round trips until this many milliseconds have passed, instead of `count`. */
  durationMs?: number;
  /** Write the payload in chunks of this many bytes (default: one write). */
  chunkSize?: number;
  /** Set `TCP_NODELAY` (default `true`). */
  noDelay?: boolean;
  /** Set `SO_KEEPALIVE` (default `false`). */
  keepAlive?: boolean;
  /** Milliseconds a connect or a round trip may take (default 5000). */
  timeoutMs?: number;
  /** PEM file of the CA that signed the server's certificate, for `tls`. */
  caFile?: string;
  /** Skip certificate verification, for `tls` (default `false`). */
  insecure?: boolean;
  /** Server name to send and verify, for `tls` (default: the target's host). */
  servername?: string;
}

/** The echo client role's params after defaults. */
export interface EchoClientParams {
  /** `host:port` or `unix:/path`. */
  target: string;
  /** The transport; inferred from `target` when absent. */
  transport?: EchoTransport;
  /** Text payload. */
  payload?: string;
  /** Hexadecimal payload. */
  payloadHex?: string;
  /** Random payload size in bytes. */
  payloadSize?: number;
  /** Round trips per connection (1 when neither this nor `durationMs` is set). */
  count?: number;
  /** Connections in parallel. */
  connections: number;
  /** Run for this long instead of `count` round trips. */
  durationMs?: number;
  /** Write chunk size in bytes. */
  chunkSize?: number;
  /** `TCP_NODELAY`. */
  noDelay: boolean;
  /** `SO_KEEPALIVE`. */
  keepAlive: boolean;
  /** Per connect and per round trip timeout in milliseconds. */
  timeoutMs: number;
  /** CA certificate file. */
  caFile?: string;
  /** Skip certificate verification. */
  insecure: boolean;
  /** TLS server name. */
  servername?: string;
}

const echoClientSchema = z.object({
  target: z.string().min(1).describe('Server address: "host:port", or "unix:/path"'),
  transport: z.enum(TRANSPORTS).optional().describe(
    "Transport: tcp, tls, unix or udp (default: unix for a unix: target, else tcp)",
  ),
  payload: z.string().min(1).optional().describe('Payload text, sent as UTF-8 (default "hello")'),
  payloadHex: z.string().optional().describe("Payload as hexadecimal digits"),
  payloadSize: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe(
    "Payload of this many random bytes (beyond 1 MiB, a random MiB repeated)",
  ),
  count: z.number().int().min(1).max(1e9).optional().describe(
    "Round trips per connection (default 1; not with durationMs)",
  ),
  connections: z.number().int().min(1).max(10_000).default(1).describe("Connections in parallel"),
  durationMs: z.number().int().min(1).max(DAY_MS).optional().describe(
    "Run round trips until this many milliseconds pass, instead of count",
  ),
  chunkSize: z.number().int().min(1).max(2 ** 30).optional().describe(
    "Write the payload in chunks of this many bytes (stream transports)",
  ),
  noDelay: z.boolean().default(true).describe("Set TCP_NODELAY"),
  keepAlive: z.boolean().default(false).describe("Set SO_KEEPALIVE"),
  timeoutMs: z.number().int().min(1).max(DAY_MS).default(5000).describe(
    "Milliseconds a connect or one round trip may take",
  ),
  caFile: z.string().min(1).optional().describe("PEM CA certificate file (transport tls)"),
  insecure: z.boolean().default(false).describe(
    "Skip TLS certificate verification (transport tls)",
  ),
  servername: z.string().min(1).optional().describe(
    "TLS server name (transport tls; default: the target host)",
  ),
}).superRefine((p, ctx) => {
  const transport = resolveTransport(p);
  const given = (["payload", "payloadHex", "payloadSize"] as const).filter((f) =>
    p[f] !== undefined
  );
  if (given.length > 1) {
    ctx.addIssue({
      code: "custom",
      path: [given[1]],
      message: `cannot be combined with "${given[0]}": give exactly one payload`,
    });
  }
  if (p.payloadHex !== undefined && !HEX.test(p.payloadHex.replace(/\s+/g, ""))) {
    ctx.addIssue({
      code: "custom",
      path: ["payloadHex"],
      message: "is not an even number of hexadecimal digits",
    });
  }
  if (p.count !== undefined && p.durationMs !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["durationMs"],
      message: 'cannot be combined with "count": give one or the other',
    });
  }
  const isUnixTarget = p.target.startsWith("unix:");
  if (transport === "unix") {
    if (!isUnixTarget || p.target.length === "unix:".length) {
      ctx.addIssue({
        code: "custom",
        path: ["target"],
        message: `"${p.target}" is not "unix:/path" (transport "unix")`,
      });
    } else {
      const message = problemOf(() => checkUnixPath(p.target.slice("unix:".length)));
      if (message !== undefined) ctx.addIssue({ code: "custom", path: ["target"], message });
    }
  } else {
    const message = problemOf(() => parseConnectAddress(p.target));
    if (message !== undefined) ctx.addIssue({ code: "custom", path: ["target"], message });
  }
  if (transport === "udp") {
    if (payloadLength(p) > MAX_UDP_PAYLOAD) {
      ctx.addIssue({
        code: "custom",
        path: [given[0] ?? "payload"],
        message: `is longer than a UDP datagram carries (${MAX_UDP_PAYLOAD} bytes)`,
      });
    }
    if (p.chunkSize !== undefined) onlyFor(ctx, "chunkSize", "tcp, tls or unix", transport);
  }
  if (transport !== "tls") {
    for (const field of ["caFile", "servername"] as const) {
      if (p[field] !== undefined) onlyFor(ctx, field, "tls", transport);
    }
    if (p.insecure) onlyFor(ctx, "insecure", "tls", transport);
  }
});

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof echoClientSchema, EchoClientParams, EchoClientOptions>;

/**
 * Schema of the echo client role's params.
 *
 * @example Defaults, and two payloads at once rejected
 * ```ts
 * import { echoClientParams } from "@wiretest/wiretest/plugins/echo";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(echoClientParams, { target: "127.0.0.1:7" });
 * assert.equal(params.connections, 1);
 * assert.equal(params.timeoutMs, 5000);
 * assert.throws(() =>
 *   validateParams(echoClientParams, { target: "127.0.0.1:7", payload: "a", payloadSize: 4 })
 * );
 * ```
 */
export const echoClientParams: ParamsSchema<EchoClientParams, EchoClientOptions> = echoClientSchema;

/**
 * The transport a client uses: the one given, else `unix` for a `unix:`
 * target and `tcp` otherwise.
 *
 * @param params The client's `target` and `transport`.
 * @returns The transport.
 *
 * @example Inferring Unix from the target
 * ```ts
 * import { resolveTransport } from "@wiretest/wiretest/plugins/echo";
 * import assert from "node:assert/strict";
 *
 * assert.equal(resolveTransport({ target: "unix:/tmp/echo.sock" }), "unix");
 * assert.equal(resolveTransport({ target: "127.0.0.1:7" }), "tcp");
 * ```
 */
export function resolveTransport(
  params: Pick<EchoClientOptions, "target" | "transport">,
): EchoTransport {
  return params.transport ?? (params.target.startsWith("unix:") ? "unix" : "tcp");
}

/**
 * A payload as one buffer: `payloadHex` decoded, `payloadSize` random
 * bytes, `payload` as UTF-8, or `hello`. The client itself never holds a
 * `payloadSize` over 1 MiB whole: it sends a random block of 1,048,573
 * bytes repeated, so memory stays flat; this function allocates all of it.
 *
 * @param params The client's payload fields (already validated).
 * @returns A new buffer with the payload.
 *
 * @example Decoding a hex payload
 * ```ts
 * import { payloadBytes } from "@wiretest/wiretest/plugins/echo";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(payloadBytes({ payloadHex: "00 ff" }), new Uint8Array([0, 255]));
 * assert.equal(payloadBytes({ payloadSize: 100_000 }).length, 100_000);
 * assert.equal(new TextDecoder().decode(payloadBytes({})), "hello");
 * ```
 */
export function payloadBytes(
  params: Pick<EchoClientOptions, "payload" | "payloadHex" | "payloadSize">,
): Uint8Array {
  if (params.payloadHex !== undefined) {
    const hex = params.payloadHex.replace(/\s+/g, "");
    if (!HEX.test(hex)) {
      throw new SyntaxError(`Cannot parse payloadHex: "${params.payloadHex}" is not hexadecimal`);
    }
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return bytes;
  }
  if (params.payloadSize !== undefined) {
    const bytes = new Uint8Array(params.payloadSize);
    // getRandomValues fills at most 65536 bytes per call.
    for (let off = 0; off < bytes.length; off += 65_536) {
      crypto.getRandomValues(bytes.subarray(off, off + 65_536));
    }
    return bytes;
  }
  return new TextEncoder().encode(params.payload ?? "hello");
}

function payloadLength(p: Pick<EchoClientOptions, "payload" | "payloadHex" | "payloadSize">) {
  if (p.payloadSize !== undefined) return p.payloadSize;
  if (p.payloadHex !== undefined) return Math.floor(p.payloadHex.replace(/\s+/g, "").length / 2);
  return new TextEncoder().encode(p.payload ?? "hello").length;
}

function onlyFor(ctx: z.RefinementCtx, field: string, wanted: string, actual: string): void {
  ctx.addIssue({
    code: "custom",
    path: [field],
    message: `is only for transport ${
      wanted.includes(",") ? wanted : `"${wanted}"`
    }, not "${actual}"`,
  });
}

// A transport check's message as a params issue: "Cannot use host …: why".
function problemOf(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
