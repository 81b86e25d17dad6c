/**
 * Waiting for a promise at most so long, and waiting a while unless aborted.
 *
 * @module
 */

/** What {@linkcode within} gives when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

// setTimeout fires at once for delays beyond 2^31 - 1 ms.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Settles with `promise`, or with {@linkcode TIMED_OUT} after `ms`. A late
 * value is handed to `onLate` (to close a service that started too late);
 * a late rejection is ignored.
 *
 * @param promise What to wait for.
 * @param ms How long at most; `Infinity` waits for as long as it takes.
 * @param onLate Receives a value that arrives after the time ran out.
 * @returns The value, or `TIMED_OUT`.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T | typeof TIMED_OUT> {
  if (!(ms < MAX_DELAY)) return await promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let late = false;
  promise.then((value) => {
    if (late) onLate?.(value);
  }, () => {});
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      late = true;
      resolve(TIMED_OUT);
    }, Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits `ms`, or less when `signal` aborts (without throwing).
 *
 * @param ms How long.
 * @param signal Ends the wait early.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.min(ms, MAX_DELAY));
    signal.addEventListener("abort", done, { once: true });
  });
}
