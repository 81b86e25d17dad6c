// Shared deadline logic: one place decides how `timeout`, `deadline` and
// `signal` combine, so every transport times out and aborts the same way.
import { type NetOperation, TimeoutError, toNetError } from "../errors.ts";
import type { IoOptions } from "./types.ts";

/** What is being waited for, for the error message. */
export interface OperationInfo {
  operation: NetOperation;
  address: string;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Milliseconds left under `options`, or `undefined` when unbounded. */
export function remainingMs(options: IoOptions | undefined): number | undefined {
  if (!options) return undefined;
  const { timeout, deadline } = options;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
    if (timeout !== Infinity) {
      throw new RangeError(`Cannot use timeout: "${timeout}" is not a non-negative number`);
    }
  }
  let ms = timeout === Infinity ? undefined : timeout;
  if (deadline !== undefined && Number.isNaN(deadline)) {
    throw new RangeError(`Cannot use deadline: "${deadline}" is not a time in milliseconds`);
  }
  if (deadline !== undefined && deadline !== Infinity) {
    const left = Math.max(0, deadline - Date.now());
    ms = ms === undefined ? left : Math.min(ms, left);
  }
  return ms;
}

/**
 * Runs `run` under the options' timeout, deadline and signal.
 *
 * On timeout it rejects with a {@linkcode TimeoutError}; on abort with the
 * signal's reason. `run` receives a signal that aborts in both cases so it
 * can cancel what it started; `onAbandon` gets the still pending promise so
 * the caller can keep or clean up what it would have produced.
 */
export function withDeadline<T>(
  options: IoOptions | undefined,
  info: OperationInfo,
  run: (signal: AbortSignal | undefined) => Promise<T>,
  onAbandon?: (pending: Promise<T>) => void,
): Promise<T> {
  const ms = remainingMs(options);
  const outer = options?.signal;
  if (ms === undefined && !outer) return run(undefined);
  if (outer?.aborted) return Promise.reject(outer.reason);

  const inner = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let pending: Promise<T>;
    try {
      pending = run(inner.signal);
    } catch (error) {
      // Thrown before anything started: no timer to arm, nothing to abandon.
      reject(error);
      return;
    }
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    };
    const abandon = (reason: unknown) => {
      if (settled) return;
      finish();
      inner.abort(reason);
      pending.catch(() => {});
      onAbandon?.(pending);
      reject(reason);
    };
    const onAbort = () => abandon(outer!.reason);
    outer?.addEventListener("abort", onAbort, { once: true });
    if (ms !== undefined) {
      // Timers longer than 2^31-1 ms fire at once, so long waits re-arm in steps.
      const end = performance.now() + ms;
      const arm = () => {
        const left = end - performance.now();
        if (left <= 0) return abandon(new TimeoutError({ ...info, timeoutMs: ms }));
        timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      timer = setTimeout(arm, Math.min(ms, MAX_TIMER_MS));
    }
    pending.then(
      (value) => {
        if (settled) return;
        finish();
        resolve(value);
      },
      (error) => {
        if (settled) return;
        finish();
        reject(error);
      },
    );
  });
}

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
