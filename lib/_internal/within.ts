/**
 * Waiting for a promise at most so long, without cancelling it.
 *
 * Internal: shared by the runner and the built-in plugins; not part of the
 * public API.
 *
 * @module
 */
import { startTimer, type Timer } from "./timer.ts";

/** What {@linkcode within} gives when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Settles with `promise`, or with {@linkcode TIMED_OUT} after `ms`. A late
 * value is handed to `onLate` (to close a service that started too late);
 * a late rejection is ignored.
 *
 * @param promise What to wait for.
 * @param ms How long at most (0 or less: the time is up already, though a
 * promise already settled still wins); `Infinity` waits for as long as it takes.
 * @param onLate Receives a value that arrives after the time ran out.
 * @returns The value, or `TIMED_OUT`.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T | typeof TIMED_OUT> {
  if (ms === Infinity) return await promise;
  let timer: Timer | undefined;
  let late = false;
  promise.then((value) => {
    if (late) onLate?.(value);
  }, () => {});
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = startTimer(Math.max(0, ms), () => {
      late = true;
      resolve(TIMED_OUT);
    });
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer?.clear();
  }
}
