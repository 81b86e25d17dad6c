/**
 * Typed errors raised by wiretest's transports and plugins.
 *
 * Every error says what could not be done, where, and why ("Cannot connect to
 * 127.0.0.1:9: connection refused"), carries the fields a program needs to
 * branch on, and keeps the original error as `cause`.
 *
 * @module
 */

/** What a network operation was doing when it failed. */
export type NetOperation =
  | "connect"
  | "listen"
  | "accept"
  | "read"
  | "write"
  | "handshake"
  | "send"
  | "receive"
  | "resolve"
  | "ping"
  | (string & Record<never, never>);

/** Why a connection-level operation failed. */
export type ConnectionErrorCode =
  | "refused"
  | "reset"
  | "aborted"
  | "unreachable"
  | "closed"
  | "broken-pipe"
  | "address-in-use"
  | "address-unavailable"
  | "not-found"
  | "dns"
  | "timed-out"
  | "tls"
  | "other";

/** Fields shared by the constructors of wiretest's network errors. */
export interface NetErrorOptions {
  /** The operation that failed, e.g. `"connect"`. */
  operation: NetOperation;
  /** The peer or local address, formatted (`127.0.0.1:80`, `unix:/tmp/s`). */
  address: string;
  /** The original error. */
  cause?: unknown;
}

/**
 * A deadline or timeout passed before a network operation finished.
 *
 * @example Branching on a timeout
 * ```ts
 * import { TimeoutError } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const err = new TimeoutError({ operation: "read", address: "127.0.0.1:7", timeoutMs: 250 });
 * assert.equal(err.message, "Cannot read from 127.0.0.1:7: timed out after 250 ms");
 * assert.ok(err instanceof Error);
 * ```
 */
export class TimeoutError extends Error {
  /** The operation that timed out. */
  readonly operation: NetOperation;
  /** The address the operation was about. */
  readonly address: string;
  /** How long the operation was given, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * Creates a timeout error.
   *
   * @param options What timed out, where and after how long.
   */
  constructor(options: NetErrorOptions & { timeoutMs: number }) {
    super(
      `Cannot ${describe(options.operation, options.address)}: timed out after ${
        formatMs(options.timeoutMs)
      }`,
      { cause: options.cause },
    );
    this.name = "TimeoutError";
    this.operation = options.operation;
    this.address = options.address;
    this.timeoutMs = options.timeoutMs;
  }
}

/**
 * A connection could not be made or broke: refused, reset, unreachable, closed…
 *
 * @example Branching on the code
 * ```ts
 * import { ConnectionError } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const err = new ConnectionError({ code: "refused", operation: "connect", address: "127.0.0.1:9" });
 * assert.equal(err.message, "Cannot connect to 127.0.0.1:9: connection refused");
 * assert.equal(err.code, "refused");
 * ```
 */
export class ConnectionError extends Error {
  /** Why it failed. */
  readonly code: ConnectionErrorCode;
  /** The operation that failed. */
  readonly operation: NetOperation;
  /** The address the operation was about. */
  readonly address: string;

  /**
   * Creates a connection error.
   *
   * @param options The code, operation, address, an optional detail that
   * replaces the code's standard wording, and the cause.
   */
  constructor(options: NetErrorOptions & { code: ConnectionErrorCode; detail?: string }) {
    super(
      `Cannot ${describe(options.operation, options.address)}: ${
        options.detail ?? CODE_TEXT[options.code]
      }`,
      { cause: options.cause },
    );
    this.name = "ConnectionError";
    this.code = options.code;
    this.operation = options.operation;
    this.address = options.address;
  }
}

/**
 * The runtime (Deno's `NotCapable`) or the operating system refused a
 * permission the operation needs.
 *
 * @example Reading the denied permission
 * ```ts
 * import { PermissionDeniedError } from "@wiretest/wiretest";
 * import assert from "node:assert/strict";
 *
 * const err = new PermissionDeniedError({
 *   operation: "connect",
 *   address: "127.0.0.2:80",
 *   source: "runtime",
 * });
 * assert.match(err.message, /^Cannot connect to 127\.0\.0\.2:80: permission denied/);
 * ```
 */
export class PermissionDeniedError extends Error {
  /** The operation that was refused. */
  readonly operation: NetOperation;
  /** The address the operation was about. */
  readonly address: string;
  /** `"runtime"` when Deno's permissions refused it, `"os"` when the kernel did. */
  readonly source: "runtime" | "os";

  /**
   * Creates a permission error.
   *
   * @param options The operation, address, who refused and the cause.
   */
  constructor(options: NetErrorOptions & { source: "runtime" | "os" }) {
    const by = options.source === "runtime"
      ? "permission denied by the Deno runtime (grant it with --allow-net or a manifest entry)"
      : "permission denied by the operating system";
    super(`Cannot ${describe(options.operation, options.address)}: ${by}`, {
      cause: options.cause,
    });
    this.name = "PermissionDeniedError";
    this.operation = options.operation;
    this.address = options.address;
    this.source = options.source;
  }
}

const CODE_TEXT: Record<ConnectionErrorCode, string> = {
  "refused": "connection refused",
  "reset": "connection reset by peer",
  "aborted": "connection aborted",
  "unreachable": "network or host unreachable",
  "closed": "connection closed",
  "broken-pipe": "broken pipe (the peer closed the connection)",
  "address-in-use": "address already in use",
  "address-unavailable": "address not available",
  "not-found": "no such socket",
  "dns": "name could not be resolved",
  "timed-out": "timed out in the operating system",
  "tls": "TLS failure",
  "other": "network error",
};

const PREPOSITION: Record<string, string> = {
  connect: "to",
  read: "from",
  receive: "on",
  write: "to",
  send: "to",
  listen: "on",
  accept: "on",
  handshake: "with",
  resolve: "",
};

function describe(operation: NetOperation, address: string): string {
  // A ping names its target as given, quoted, as udp-ping's other errors do.
  if (operation === "ping") return `ping "${address}"`;
  const prep = PREPOSITION[operation] ?? "on";
  return prep ? `${operation} ${prep} ${address}` : `${operation} ${address}`;
}

function formatMs(ms: number): string {
  return Number.isInteger(ms) ? `${ms} ms` : `${ms.toFixed(1)} ms`;
}

/** Maps Deno error class names and Node error codes to connection codes. */
const BY_NAME: Record<string, ConnectionErrorCode> = {
  ConnectionRefused: "refused",
  ECONNREFUSED: "refused",
  ConnectionReset: "reset",
  ECONNRESET: "reset",
  ConnectionAborted: "aborted",
  ECONNABORTED: "aborted",
  NetworkUnreachable: "unreachable",
  HostUnreachable: "unreachable",
  ENETUNREACH: "unreachable",
  EHOSTUNREACH: "unreachable",
  NotConnected: "closed",
  BadResource: "closed",
  Interrupted: "closed",
  ERR_SOCKET_CLOSED: "closed",
  EOF: "closed",
  UnexpectedEof: "closed",
  BrokenPipe: "broken-pipe",
  EPIPE: "broken-pipe",
  AddrInUse: "address-in-use",
  EADDRINUSE: "address-in-use",
  AddrNotAvailable: "address-unavailable",
  EADDRNOTAVAIL: "address-unavailable",
  NotFound: "not-found",
  ENOENT: "not-found",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  TimedOut: "timed-out",
  ETIMEDOUT: "timed-out",
};

// Deno 2 raises NotCapable for its own permission checks and keeps
// PermissionDenied for the kernel's; Deno 1 used PermissionDenied for both.
const RUNTIME_DENIAL: string = typeof Deno !== "undefined" && "NotCapable" in Deno.errors
  ? "NotCapable"
  : "PermissionDenied";

// Own keys only: a name like "constructor" must not find Object.prototype's.
function codeFor(key: string): ConnectionErrorCode | undefined {
  return Object.hasOwn(BY_NAME, key) ? BY_NAME[key] : undefined;
}

/**
 * Turns an error thrown by a Deno or `node:` socket API into a typed wiretest
 * error naming the operation and address. Errors that are already typed
 * (wiretest's own, `TypeError`, `RangeError`) pass through unchanged.
 *
 * @param error The error that was thrown.
 * @param operation What was being done.
 * @param address Where, formatted.
 * @returns The typed error, ready to throw.
 *
 * @example Mapping Deno's ConnectionRefused
 * ```ts
 * import { ConnectionError } from "@wiretest/wiretest";
 * import { toNetError } from "@wiretest/wiretest/transport";
 * import assert from "node:assert/strict";
 *
 * const err = toNetError(new Deno.errors.ConnectionRefused("refused"), "connect", "127.0.0.1:9");
 * assert.ok(err instanceof ConnectionError);
 * assert.equal(err.code, "refused");
 * ```
 */
export function toNetError(error: unknown, operation: NetOperation, address: string): Error {
  if (
    error instanceof TimeoutError || error instanceof ConnectionError ||
    error instanceof PermissionDeniedError || error instanceof TypeError ||
    error instanceof RangeError
  ) {
    return error;
  }
  if (!(error instanceof Error)) {
    return new ConnectionError({
      code: "other",
      operation,
      address,
      detail: String(error),
      cause: error,
    });
  }
  const name = error.name;
  const nodeCode = (error as { code?: unknown }).code;
  if (name === RUNTIME_DENIAL) {
    return new PermissionDeniedError({ operation, address, source: "runtime", cause: error });
  }
  if (name === "PermissionDenied" || nodeCode === "EACCES" || nodeCode === "EPERM") {
    return new PermissionDeniedError({ operation, address, source: "os", cause: error });
  }
  if (name === "AbortError" || name === "TimeoutError") return error;
  let code = codeFor(name) ?? (typeof nodeCode === "string" ? codeFor(nodeCode) : undefined);
  if (!code && /lookup address|resolve|name or service not known/i.test(error.message)) {
    code = "dns";
  }
  if (!code && /tls|certificate|handshake/i.test(`${name} ${error.message}`)) {
    return new ConnectionError({
      code: "tls",
      operation,
      address,
      detail: error.message,
      cause: error,
    });
  }
  return new ConnectionError({
    code: code ?? "other",
    operation,
    address,
    detail: code ? undefined : error.message,
    cause: error,
  });
}
