/**
 * Params of the RESP plugin's client role: the interface users pass
 * ({@linkcode RespClientOptions}), the one after defaults
 * ({@linkcode RespClientParams}) and the schema ({@linkcode respClientParams}).
 *
 * @module
 */
import { z } from "zod";
import type { ParamsSchema, ParamsTypesMatch } from "@wiretest/wiretest/plugin";
import { parseHostPort } from "@wiretest/wiretest/transport";

/** Largest bulk string Redis accepts by default (`proto-max-bulk-len`). */
export const REDIS_MAX_BULK_SIZE = 512 * 1024 * 1024;

const HOUR_MS = 3_600_000;

/** What users pass to the RESP client role (only `target` is required). */
export interface RespClientOptions {
  /** The Redis server, `host:port`. */
  target: string;
  /** SET/GET round trips per connection (default 100). */
  count?: number;
  /** Connections in parallel, each doing `count` round trips (default 1). */
  connections?: number;
  /** Bytes of each random value SET then read back (default 32). */
  valueSize?: number;
  /** Prefix of the keys written; a run identifier follows it (default `wiretest:`). */
  keyPrefix?: string;
  /** Milliseconds the keys live (`SET … PX`), so a run leaves nothing behind (default 60000). */
  ttlMs?: number;
  /** Password for `AUTH`, when the server requires one. */
  password?: string;
  /** User name for `AUTH` (Redis 6 ACLs); needs `password`. */
  username?: string;
  /** Largest bulk string accepted in a reply, in bytes (default 1 MiB). */
  maxBulkSize?: number;
  /** Milliseconds the connect and each command may take (default 5000). */
  timeoutMs?: number;
  /** What one load iteration sends (`wiretest load resp`): `PING` (default), `SET` or `GET`. */
  loadCommand?: "PING" | "SET" | "GET";
}

/** The RESP client role's params after defaults. */
export interface RespClientParams {
  /** The Redis server, `host:port`. */
  target: string;
  /** SET/GET round trips per connection. */
  count: number;
  /** Connections in parallel. */
  connections: number;
  /** Bytes of each value. */
  valueSize: number;
  /** Prefix of the keys written. */
  keyPrefix: string;
  /** Milliseconds the keys live. */
  ttlMs: number;
  /** Password for `AUTH`. */
  password?: string;
  /** User name for `AUTH`. */
  username?: string;
  /** Largest bulk string accepted in a reply. */
  maxBulkSize: number;
  /** Milliseconds the connect and each command may take. */
  timeoutMs: number;
  /** What one load iteration sends. */
  loadCommand: "PING" | "SET" | "GET";
}

function isTarget(value: string): boolean {
  try {
    return parseHostPort(value).port > 0;
  } catch {
    return false;
  }
}

const respClientSchema = z.object({
  target: z.string().refine(isTarget, { message: 'must be "host:port" with a port in 1-65535' })
    .describe("Redis server, host:port"),
  count: z.number().int().min(1).max(10_000_000).default(100).describe(
    "SET/GET round trips per connection",
  ),
  connections: z.number().int().min(1).max(1000).default(1).describe(
    "Connections in parallel, each doing count round trips",
  ),
  valueSize: z.number().int().min(1).max(REDIS_MAX_BULK_SIZE).default(32).describe(
    "Bytes of each random value SET then read back with GET",
  ),
  keyPrefix: z.string().min(1).max(256).default("wiretest:").describe(
    "Prefix of the keys written; a run identifier follows it",
  ),
  ttlMs: z.number().int().min(1).max(30 * 24 * HOUR_MS).default(60_000).describe(
    "Milliseconds the keys live (SET PX), so a run leaves nothing behind",
  ),
  password: z.string().min(1).optional().describe("Password for AUTH"),
  username: z.string().min(1).optional().describe("User name for AUTH (Redis 6 ACLs)"),
  maxBulkSize: z.number().int().min(1).max(REDIS_MAX_BULK_SIZE).default(1 << 20).describe(
    "Largest bulk string accepted in a reply, in bytes",
  ),
  timeoutMs: z.number().int().min(1).max(HOUR_MS).default(5000).describe(
    "Milliseconds the connect and each command may take",
  ),
  loadCommand: z.enum(["PING", "SET", "GET"]).default("PING").describe(
    "What one load iteration sends: PING (expects PONG), SET of the VU's key, or GET of it (verified)",
  ),
}).superRefine((p, ctx) => {
  if (p.valueSize > p.maxBulkSize) {
    ctx.addIssue({
      code: "custom",
      path: ["valueSize"],
      message: `must not exceed maxBulkSize (${p.maxBulkSize}), or GET could not read it back`,
    });
  }
  if (p.username !== undefined && p.password === undefined) {
    ctx.addIssue({ code: "custom", path: ["password"], message: "is required with username" });
  }
});

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof respClientSchema, RespClientParams, RespClientOptions>;

/**
 * Schema of the RESP client role's params. A `valueSize` over `maxBulkSize`
 * is a params error: the client would refuse its own value when reading it
 * back.
 *
 * @example Defaults and a located error
 * ```ts
 * import { respClientParams } from "./params.ts";
 * import { ParamsError, validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(respClientParams, { target: "127.0.0.1:6379" });
 * assert.deepEqual([params.count, params.connections, params.valueSize], [100, 1, 32]);
 * assert.throws(
 *   () => validateParams(respClientParams, { target: "127.0.0.1:6379", valueSize: 2048, maxBulkSize: 1024 }),
 *   (e: unknown) => e instanceof ParamsError && e.issues[0].path[0] === "valueSize",
 * );
 * ```
 */
export const respClientParams: ParamsSchema<RespClientParams, RespClientOptions> = respClientSchema;
