/**
 * A one-shot timer for any delay. `setTimeout` fires at once (after 1 ms)
 * for a delay beyond 2^31 - 1 ms, so a longer wait is made of several
 * timers, each re-armed until the whole delay has passed.
 *
 * Internal: shared by the transports, the plugin context, the runner and
 * the built-in plugins; not part of the public API.
 *
 * @module
 */

/** The longest delay `setTimeout` honours; a longer one fires at once. */
export const MAX_TIMER_MS: number = 2 ** 31 - 1;

/** A pending {@linkcode startTimer}; clearing or disposing it cancels it. */
export interface Timer extends Disposable {
  /** Cancels the timer if it has not fired. Idempotent. */
  clear(): void;
}

const NO_TIMER: Timer = { clear() {}, [Symbol.dispose]() {} };

/**
 * Checks a relative timeout: `undefined` and `Infinity` mean none, a
 * negative number or NaN is refused.
 *
 * @param ms Milliseconds, or `undefined`.
 * @param what The name of the option, for the message.
 * @returns `ms`, or `undefined` when there is no limit.
 * @throws {RangeError} When `ms` is negative or not a number.
 */
export function checkTimeout(ms: number | undefined, what = "timeout"): number | undefined {
  if (ms === undefined || ms === Infinity) return undefined;
  if (typeof ms !== "number" || !(ms >= 0)) {
    throw new RangeError(`Cannot use ${what}: "${ms}" is not a non-negative number`);
  }
  return ms;
}

/**
 * Calls `onFire` once `ms` milliseconds have passed (by the monotonic
 * clock, never earlier), however long `ms` is. `Infinity` never fires and
 * holds no timer; 0 fires on the next turn of the event loop.
 *
 * @param ms The delay in milliseconds.
 * @param onFire Called once when it has passed.
 * @param stepMs The longest single timer (lowered only by tests).
 * @returns The timer; clear it (or `using` it) when no longer needed, so no
 * timer outlives its use.
 * @throws {RangeError} When `ms` is negative or not a number.
 */
export function startTimer(ms: number, onFire: () => void, stepMs: number = MAX_TIMER_MS): Timer {
  const delay = checkTimeout(ms);
  if (delay === undefined) return NO_TIMER;
  const end = performance.now() + delay;
  let id: ReturnType<typeof setTimeout> | undefined;
  const arm = (left: number) => {
    id = setTimeout(tick, Math.min(Math.max(0, left), stepMs));
  };
  const tick = () => {
    const left = end - performance.now();
    if (left > 0) return arm(left);
    id = undefined;
    onFire();
  };
  arm(delay);
  const clear = () => {
    if (id === undefined) return;
    clearTimeout(id);
    id = undefined;
  };
  return { clear, [Symbol.dispose]: clear };
}
