// How a failed transport operation is reported: the caller's own abort
// reason as is, anything else as a typed network error.
import { type NetOperation, toNetError } from "../errors.ts";
import type { IoOptions } from "./types.ts";

/**
 * Maps an error from an operation run under `options`: the signal's own
 * reason is rethrown as is (callers chose it), anything else becomes a typed
 * network error.
 */
export function toIoError(
  error: unknown,
  options: IoOptions | undefined,
  operation: NetOperation,
  address: string,
): unknown {
  const signal = options?.signal;
  if (signal?.aborted && error === signal.reason) return error;
  return toNetError(error, operation, address);
}
