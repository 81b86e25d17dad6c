/**
 * Formatting and parsing of socket addresses (`127.0.0.1:80`, `[::1]:80`,
 * `unix:/run/app.sock`).
 *
 * @module
 */
import { ipVersion } from "../_internal/ip_literal.ts";
import { quotePath } from "../_internal/input_file_error.ts";
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
  const zone = zoneOf(m?.[1] ?? /^\[([^\]]*)\]/.exec(text.trim())?.[1] ?? "");
  if (zone !== undefined) {
    throw new TypeError(`Cannot parse address: ${quotePath(text)} has ${zoneProblem(zone)}`);
  }
  if (!m) {
    // "::1:80": the port cannot be told from the address without brackets.
    const v6 = /^([0-9a-f:.]*:[0-9a-f:.]*):(\d+)$/i.exec(text.trim());
    const hint = v6 && ipVersion(v6[1]) === 6
      ? ` (an IPv6 address goes in brackets: "[${v6[1]}]:${v6[2]}")`
      : /^\s*\[[^\]]*$/.test(text)
      ? ' (its "[" is not closed)'
      : "";
    throw new TypeError(`Cannot parse address: ${quotePath(text)} is not host:port${hint}`);
  }
  const port = Number(m[3]);
  if (port > 65535) {
    throw new RangeError(
      `Cannot parse address: port ${m[3].slice(0, 20)} in ${
        quotePath(text)
      } is out of range 0-65535`,
    );
  }
  const hostname = m[1] ?? (m[2] || defaultHost);
  return { hostname, port };
}

/**
 * Parses `host:port` or `[v6]:port` to connect to: as
 * {@linkcode parseHostPort} does, and the host must be an IP address or a
 * host name ({@linkcode checkHost}) and the port 1–65535 (port 0 names no
 * server).
 *
 * @param text The address text.
 * @returns The host and port.
 * @throws {TypeError} When the text is not `host:port` or the host is no IP
 * address or host name.
 * @throws {RangeError} When the port is 0 or over 65535.
 *
 * @example Port 0 cannot be connected to
 * ```ts
 * import { parseConnectAddress } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseConnectAddress("[::1]:7"), { hostname: "::1", port: 7 });
 * assert.throws(() => parseConnectAddress("127.0.0.1:0"), RangeError);
 * assert.throws(() => parseConnectAddress("host name:7"), TypeError);
 * ```
 */
export function parseConnectAddress(text: string): HostPort {
  const address = parseHostPort(text);
  checkHost(address.hostname);
  if (address.port === 0) {
    throw new RangeError(
      `Cannot use address ${quotePath(text)}: port 0 cannot be connected to (give 1-65535)`,
    );
  }
  return address;
}

/** The most bytes a Unix socket path may have on Linux (`sun_path` holds 108, with a NUL). */
export const MAX_UNIX_PATH_BYTES = 107;

/**
 * Checks a host to connect to or bind: an IPv4 or IPv6 address (without
 * brackets), or a host name of at most 253 characters in labels of 1–63
 * letters, digits, `-` or `_`.
 *
 * @param host The host.
 * @throws {TypeError} When it is neither, saying why.
 *
 * @example A host name and an IPv6 address pass; a space does not
 * ```ts
 * import { checkHost } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * checkHost("db-1.internal");
 * checkHost("::1");
 * assert.throws(() => checkHost("host name"), TypeError);
 * ```
 */
export function checkHost(host: string): void {
  const cannot = (why: string) => new TypeError(`Cannot use host ${quotePath(host)}: ${why}`);
  const zone = zoneOf(host);
  if (zone !== undefined) throw cannot(`it has ${zoneProblem(zone)}`);
  if (ipVersion(host) !== 0) return;
  if (host === "") throw cannot("it is empty");
  if (host.includes("@")) {
    throw cannot(
      `it is not an IP address or a host name (user info such as "user@" has no place in it)`,
    );
  }
  if (host.includes(":")) {
    throw cannot("it is not an IP address (an IPv6 address is written without brackets here)");
  }
  if (host.length > 253) throw cannot(`it is ${host.length} characters, more than 253`);
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  for (const label of labels) {
    if (label.length > 63) {
      throw cannot(
        `its label "${label.slice(0, 20)}…" is ${label.length} characters, more than 63`,
      );
    }
    if (!/^[A-Za-z0-9_-]+$/.test(label)) {
      throw cannot('it is not an IP address or a host name (letters, digits, "-", "_" and dots)');
    }
  }
  // A name ending in a number is read as an IPv4 address by URL parsers
  // (WHATWG) and resolvers alike: "1.2.3.999" or "10.1" is a mistyped one.
  if (/^(?:\d+|0x[0-9a-f]*)$/i.test(labels[labels.length - 1])) {
    throw cannot("it is not an IPv4 address (four numbers 0-255 joined by dots) nor a host name");
  }
}

// The zone of an IPv6 address ("%eth0" of "fe80::1%eth0"), if it has one.
function zoneOf(host: string): string | undefined {
  const at = host.indexOf("%");
  return at !== -1 && ipVersion(host.slice(0, at)) === 6 ? host.slice(at) : undefined;
}

// Zones are refused rather than half-supported: the URL parser (http-probe,
// the exporter), the libc UDP path's socket addresses and udp-ping's reply
// matching have no place for one.
function zoneProblem(zone: string): string {
  return `an IPv6 zone id (${
    quotePath(zone)
  }), which wiretest does not support (give a global or loopback address)`;
}

/**
 * Checks a Unix socket path: not empty, no NUL character, at most
 * {@linkcode MAX_UNIX_PATH_BYTES} bytes in UTF-8.
 *
 * @param path The socket's path.
 * @throws {RangeError} When it is longer than the limit, saying both lengths.
 * @throws {TypeError} When it is empty or has a NUL character.
 *
 * @example A path of 120 bytes is too long
 * ```ts
 * import { checkUnixPath } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * checkUnixPath("/tmp/echo.sock");
 * assert.throws(() => checkUnixPath(`/tmp/${"a".repeat(115)}`), RangeError);
 * ```
 */
export function checkUnixPath(path: string): void {
  if (path === "") throw new TypeError('Cannot use Unix socket path "": it is empty');
  if (path.includes("\0")) {
    throw new TypeError(
      `Cannot use Unix socket path ${quotePath(path)}: it contains a NUL character`,
    );
  }
  const bytes = new TextEncoder().encode(path).length;
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw new RangeError(
      `Cannot use Unix socket path ${quotePath(path)}: it is ${bytes} bytes, longer than the ` +
        `${MAX_UNIX_PATH_BYTES} bytes a socket path may have on Linux`,
    );
  }
}
