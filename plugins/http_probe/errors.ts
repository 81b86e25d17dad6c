/**
 * The errors the HTTP probe adds to wiretest's network errors: a response
 * that is not HTTP/1.x ({@linkcode HttpParseError}) and a redirect chain
 * that loops or runs too long ({@linkcode RedirectError}).
 *
 * @module
 */

/** Which part of a response could not be parsed. */
export type HttpParsePart =
  | "status-line"
  | "header"
  | "content-length"
  | "transfer-encoding"
  | "chunk"
  | "content-encoding";

/** Options for {@linkcode HttpParseError}. */
export interface HttpParseErrorOptions {
  /** The part of the response that is wrong. */
  part: HttpParsePart;
  /** The peer, formatted (`127.0.0.1:8080`). */
  address: string;
  /** What is wrong, e.g. `invalid status line "FOO"`. */
  detail: string;
  /** The original error, if any. */
  cause?: unknown;
}

/**
 * A response broke HTTP/1.1 framing: an invalid status line, header line,
 * `Content-Length` or chunk size. It is a `SyntaxError` (the bytes are
 * unparsable), with the part and peer as fields.
 *
 * @example Reading the part that failed
 * ```ts
 * import { HttpParseError } from "@wiretest/wiretest/plugins/http-probe";
 * import assert from "node:assert/strict";
 *
 * const err = new HttpParseError({
 *   part: "status-line",
 *   address: "127.0.0.1:8080",
 *   detail: 'invalid status line "FOO"',
 * });
 * assert.ok(err instanceof SyntaxError);
 * assert.equal(err.message, 'Cannot parse response from 127.0.0.1:8080: invalid status line "FOO"');
 * assert.equal(err.code, "status-line");
 * ```
 */
export class HttpParseError extends SyntaxError {
  /** The part of the response that is wrong (also the outcome's error code). */
  readonly code: HttpParsePart;
  /** The peer, formatted. */
  readonly address: string;

  /**
   * Creates a parse error.
   *
   * @param options The part, peer, detail and cause.
   */
  constructor(options: HttpParseErrorOptions) {
    super(`Cannot parse response from ${options.address}: ${options.detail}`, {
      cause: options.cause,
    });
    this.name = "HttpParseError";
    this.code = options.part;
    this.address = options.address;
  }
}

/** Why a redirect chain was given up. */
export type RedirectErrorCode = "redirect-loop" | "too-many-redirects" | "bad-location";

/** Options for {@linkcode RedirectError}. */
export interface RedirectErrorOptions {
  /** Why the chain was given up. */
  code: RedirectErrorCode;
  /** The location that was not followed. */
  location: string;
  /** The limit in force, for `too-many-redirects`. */
  maxRedirects?: number;
  /** The reason a location is unusable, for `bad-location`. */
  detail?: string;
  /** The original error, if any. */
  cause?: unknown;
}

/**
 * A redirect was not followed: the chain came back to a URL it had already
 * requested, went past `maxRedirects`, or pointed somewhere unusable (not
 * `http:`/`https:`). It is a `RangeError` (a limit was reached).
 *
 * @example A chain that is too long
 * ```ts
 * import { RedirectError } from "@wiretest/wiretest/plugins/http-probe";
 * import assert from "node:assert/strict";
 *
 * const err = new RedirectError({
 *   code: "too-many-redirects",
 *   location: "http://127.0.0.1:8080/6",
 *   maxRedirects: 5,
 * });
 * assert.ok(err instanceof RangeError);
 * assert.equal(
 *   err.message,
 *   'Cannot follow redirect to "http://127.0.0.1:8080/6": more than maxRedirects 5 redirects',
 * );
 * ```
 */
export class RedirectError extends RangeError {
  /** Why the chain was given up. */
  readonly code: RedirectErrorCode;
  /** The location that was not followed. */
  readonly location: string;

  /**
   * Creates a redirect error.
   *
   * @param options The code, location, limit or detail, and cause.
   */
  constructor(options: RedirectErrorOptions) {
    const why = options.code === "redirect-loop"
      ? "redirect loop (the URL was already requested in this chain)"
      : options.code === "too-many-redirects"
      ? `more than maxRedirects ${options.maxRedirects} redirects`
      : options.detail ?? "unusable location";
    super(`Cannot follow redirect to "${options.location}": ${why}`, { cause: options.cause });
    this.name = "RedirectError";
    this.code = options.code;
    this.location = options.location;
  }
}

/** Options for {@linkcode HttpStatusError}. */
export interface HttpStatusErrorOptions {
  /** The status received. */
  status: number;
  /** Its reason phrase (may be empty). */
  reason: string;
  /** The URL that answered with it. */
  url: string;
}

/**
 * With `fail` (curl's `--fail`), a response's status was 400 or more. It
 * is a `RangeError` (the status is outside the accepted range) with code
 * `http-status`; the outcome still has the response's metrics and facts.
 *
 * @example A 404 refused
 * ```ts
 * import { HttpStatusError } from "@wiretest/wiretest/plugins/http-probe";
 * import assert from "node:assert/strict";
 *
 * const err = new HttpStatusError({ status: 404, reason: "Not Found", url: "http://127.0.0.1:8080/" });
 * assert.ok(err instanceof RangeError);
 * assert.equal(err.code, "http-status");
 * assert.equal(
 *   err.message,
 *   'Cannot accept response from "http://127.0.0.1:8080/": status 404 "Not Found" is 400 or more (fail is set)',
 * );
 * ```
 */
export class HttpStatusError extends RangeError {
  /** Always `http-status` (the outcome's error code). */
  readonly code: "http-status" = "http-status";
  /** The status received. */
  readonly status: number;
  /** The URL that answered with it. */
  readonly url: string;

  /**
   * Creates a status error.
   *
   * @param options The status, reason and URL.
   */
  constructor(options: HttpStatusErrorOptions) {
    super(
      `Cannot accept response from "${options.url}": status ${options.status}` +
        (options.reason ? ` "${options.reason}"` : "") + " is 400 or more (fail is set)",
    );
    this.name = "HttpStatusError";
    this.status = options.status;
    this.url = options.url;
  }
}
