/**
 * The errors of the RESP plugin: a Redis error reply ({@linkcode RespError})
 * and bytes that are not RESP ({@linkcode RespProtocolError}). Size limits
 * are `RangeError`s, as everywhere in wiretest.
 *
 * @module
 */

/** Where an error reply came from, to say so in its message. */
export interface RespErrorContext {
  /** The command that got the reply, e.g. `"SET"`. */
  command?: string;
  /** The server, `host:port`. */
  address?: string;
}

/**
 * A Redis error reply (`-ERR unknown command`, `-WRONGTYPE …`,
 * `-NOAUTH …`). `code` is its first word, the error kind Redis defines, so
 * fixtures can expect `error.code: NOAUTH`.
 *
 * @example Reading an error reply
 * ```ts
 * import { RespError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RespError("NOAUTH Authentication required.", { command: "PING", address: "127.0.0.1:6379" });
 * assert.equal(err.code, "NOAUTH");
 * assert.equal(err.message, "Cannot run PING on 127.0.0.1:6379: NOAUTH Authentication required.");
 * ```
 */
export class RespError extends Error {
  /** The error kind: the reply's first word (`"ERR"`, `"WRONGTYPE"`, `"NOAUTH"`…). */
  readonly code: string;
  /** The reply as the server sent it, without the leading `-`. */
  readonly reply: string;

  /**
   * Creates the error for a reply.
   *
   * @param reply The reply text without the leading `-`.
   * @param context The command and server, for the message.
   */
  constructor(reply: string, context: RespErrorContext = {}) {
    const what = context.command === undefined ? "command" : context.command;
    const where = context.address === undefined ? "" : ` on ${context.address}`;
    super(`Cannot run ${what}${where}: ${reply}`);
    this.name = "RespError";
    this.reply = reply;
    this.code = /^[A-Z][A-Z0-9_]*(?=\s|$)/.exec(reply)?.[0] ?? "ERR";
  }
}

/**
 * Bytes that break RESP: an unknown type byte, a bad length, a line without
 * CRLF, a stream that ends inside a reply, or a reply the command cannot
 * have (a `GET` answered with an array).
 *
 * @example A protocol violation is a `SyntaxError`
 * ```ts
 * import { RespProtocolError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const err = new RespProtocolError('unknown type byte "?" (0x3f)');
 * assert.ok(err instanceof SyntaxError);
 * assert.equal(err.code, "protocol");
 * assert.equal(err.message, 'Cannot parse RESP reply: unknown type byte "?" (0x3f)');
 * ```
 */
export class RespProtocolError extends SyntaxError {
  /** Always `"protocol"`, for `error.code` in outcomes. */
  readonly code: "protocol" = "protocol";

  /**
   * Creates the error.
   *
   * @param detail What was wrong.
   * @param options The cause.
   */
  constructor(detail: string, options: ErrorOptions = {}) {
    super(`Cannot parse RESP reply: ${detail}`, options);
    this.name = "RespProtocolError";
  }
}
