/**
 * A udp-ping run ended without a single valid reply: it measured nothing, so
 * it failed, whatever the loss a fixture would tolerate.
 *
 * @example Branching on the code
 * ```ts
 * import { NoReplyError } from "@wiretest/wiretest/plugins/udp-ping";
 * import assert from "node:assert/strict";
 *
 * const err = new NoReplyError({ target: "127.0.0.1:7", sent: 3, timeoutMs: 100 });
 * assert.equal(err.code, "no-reply");
 * assert.equal(
 *   err.message,
 *   'Cannot ping "127.0.0.1:7": none of 3 pings was answered within 100 ms',
 * );
 * ```
 */
export class NoReplyError extends Error {
  /** Always `"no-reply"`. */
  readonly code: "no-reply" = "no-reply";
  /** The target as given. */
  readonly target: string;
  /** Pings sent. */
  readonly sent: number;

  /**
   * Creates the error.
   *
   * @param options The target, pings sent, the per-ping timeout, and what did
   * come back instead (e.g. `"2 malformed"`), if anything.
   */
  constructor(options: { target: string; sent: number; timeoutMs: number; instead?: string }) {
    const instead = options.instead ? ` (${options.instead})` : "";
    super(
      `Cannot ping "${options.target}": none of ${options.sent} pings was answered within ${options.timeoutMs} ms${instead}`,
    );
    this.name = "NoReplyError";
    this.target = options.target;
    this.sent = options.sent;
  }
}
