/**
 * Waiting a while unless told to stop.
 *
 * Internal: shared by the runner and the built-in servers; not part of the
 * public API.
 *
 * @module
 */
import { checkTimeout, startTimer } from "./timer.ts";

/**
 * Waits `ms`, or less when `signal` aborts; never rejects. Any `ms` works
 * (see `startTimer`): `Infinity` waits for the signal; 0, or an aborted
 * signal, resolves at once.
 *
 * @param ms How long.
 * @param signal Ends the wait early.
 * @returns Resolves when the time has passed or the signal aborted.
 * @throws {RangeError} When `ms` is negative or not a number.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  checkTimeout(ms, "pause");
  if (ms === 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      timer.clear();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = startTimer(ms, done);
    signal?.addEventListener("abort", done, { once: true });
  });
}
