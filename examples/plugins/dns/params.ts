/**
 * Params of the DNS plugin's client role.
 *
 * @module
 */
import { z } from "zod";
import type { ParamsSchema, ParamsTypesMatch } from "@wiretest/wiretest/plugin";
import { parseHostPort } from "@wiretest/wiretest/transport";
import { RECORD_TYPES } from "./dns_message.ts";

const TYPES = Object.keys(RECORD_TYPES) as [string, ...string[]];

/** What users pass to the DNS client role (`target` and `name` are required). */
export interface DnsClientOptions {
  /** The DNS server, `host:port` (UDP). */
  target: string;
  /** The name to look up, e.g. `example.com`. */
  name: string;
  /** The record type (default `A`). */
  type?: string;
  /** Queries to send, one after the other (default 10). */
  count?: number;
  /** Ask the server to recurse (default `true`). */
  recursionDesired?: boolean;
  /** Milliseconds each query waits for its response (default 2000). */
  timeoutMs?: number;
}

/** The DNS client role's params after defaults. */
export interface DnsClientParams {
  /** The DNS server, `host:port`. */
  target: string;
  /** The name to look up. */
  name: string;
  /** The record type. */
  type: string;
  /** Queries to send. */
  count: number;
  /** Ask the server to recurse. */
  recursionDesired: boolean;
  /** Milliseconds each query waits for its response. */
  timeoutMs: number;
}

function isTarget(value: string): boolean {
  try {
    return parseHostPort(value).port > 0;
  } catch {
    return false;
  }
}

const dnsClientSchema = z.object({
  target: z.string().refine(isTarget, { message: 'must be "host:port" with a port in 1-65535' })
    .describe("DNS server, host:port (UDP)"),
  name: z.string().min(1).max(253).regex(/^[\x21-\x7e]+$/, {
    message: "must be printable ASCII (use the punycode form of international names)",
  }).describe("Name to look up, e.g. example.com"),
  type: z.enum(TYPES).default("A").describe("Record type"),
  count: z.number().int().min(1).max(1_000_000).default(10).describe("Queries to send"),
  recursionDesired: z.boolean().default(true).describe("Ask the server to recurse (RD flag)"),
  timeoutMs: z.number().int().min(1).max(60_000).default(2000).describe(
    "Milliseconds each query waits for its response",
  ),
});

// The interfaces say what the schema says: a drift is a compile error here.
true satisfies ParamsTypesMatch<typeof dnsClientSchema, DnsClientParams, DnsClientOptions>;

/**
 * Schema of the DNS client role's params.
 *
 * @example Defaults
 * ```ts
 * import { dnsClientParams } from "./params.ts";
 * import { validateParams } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const params = validateParams(dnsClientParams, { target: "127.0.0.1:53", name: "example.com" });
 * assert.deepEqual([params.type, params.count, params.timeoutMs], ["A", 10, 2000]);
 * assert.throws(() => validateParams(dnsClientParams, { target: "127.0.0.1:53", name: "x", type: "ZZ" }));
 * ```
 */
export const dnsClientParams: ParamsSchema<DnsClientParams, DnsClientOptions> = dnsClientSchema;
