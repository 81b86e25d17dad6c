/**
 * {@linkcode ProxyApiError}: a control API request the proxy refuses, with
 * the HTTP status toxiproxy answers it with.
 *
 * @module
 */

/**
 * A refused control API request. The API answers it as toxiproxy does:
 * `{"error": message, "status": status}`.
 *
 * @example A missing proxy
 * ```ts
 * import { ProxyApiError } from "@wiretest/wiretest/plugins/proxy";
 * import assert from "node:assert/strict";
 *
 * const error = new ProxyApiError("proxy not found", 404);
 * assert.ok(error instanceof TypeError);
 * assert.equal(error.status, 404);
 * ```
 */
export class ProxyApiError extends TypeError {
  /** The HTTP status: 400, 404, 409, 413 or 500. */
  readonly status: number;

  /**
   * Makes the error.
   *
   * @param message toxiproxy's wording where it has one ("proxy not found").
   * @param status The HTTP status.
   * @param options `cause`.
   */
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyApiError";
    this.status = status;
  }
}
