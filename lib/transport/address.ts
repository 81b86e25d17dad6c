/**
 * Formatting and parsing of socket addresses (`127.0.0.1:80`, `[::1]:80`,
 * `unix:/run/app.sock`).
 *
 * @module
 */
import type { Address } from "./types.ts";

/**
 * Formats an address as people write it: `host:port`, `[v6]:port` or
 * `unix:/path`.
 *
 * @param addr The address.
 * @returns The text form.
 *
 * @example Formatting IPv4, IPv6 and Unix addresses
 * ```ts
 * import { formatAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddress({ transport: "tcp", hostname: "127.0.0.1", port: 80 }), "127.0.0.1:80");
 * assert.equal(formatAddress({ transport: "udp", hostname: "::1", port: 53 }), "[::1]:53");
 * assert.equal(formatAddress({ transport: "unix", path: "/tmp/s" }), "unix:/tmp/s");
 * ```
 */
export function formatAddress(addr: Address): string {
  if (!("hostname" in addr)) return `unix:${addr.path ?? ""}`;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return `${host}:${addr.port}`;
}

/** A host and port parsed from text. */
export interface HostPort {
  /** Host name or IP literal, without IPv6 brackets. */
  hostname: string;
  /** Port number, 0–65535. */
  port: number;
}

/**
 * Parses `host:port` or `[v6]:port`. A missing host (`:8080`) means
 * `defaultHost`.
 *
 * @param text The address text.
 * @param defaultHost Host for `:port` (default `127.0.0.1`).
 * @returns The host and port.
 * @throws {TypeError} When the text is not `host:port`.
 * @throws {RangeError} When the port is outside 0–65535.
 *
 * @example Parsing addresses
 * ```ts
 * import { parseHostPort } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseHostPort("localhost:8080"), { hostname: "localhost", port: 8080 });
 * assert.deepEqual(parseHostPort("[::1]:53"), { hostname: "::1", port: 53 });
 * assert.throws(() => parseHostPort("127.0.0.1:99999"), RangeError);
 * ```
 */
export function parseHostPort(text: string, defaultHost = "127.0.0.1"): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d+)$/.exec(text.trim());
  if (!m) {
    throw new TypeError(`Cannot parse address: "${text}" is not host:port`);
  }
  const port = Number(m[3]);
  if (port > 65535) {
    throw new RangeError(`Cannot parse address: port ${port} in "${text}" is out of range 0-65535`);
  }
  const hostname = m[1] ?? (m[2] || defaultHost);
  return { hostname, port };
}
