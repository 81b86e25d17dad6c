// Shared deadline logic: one place decides how `timeout`, `deadline` and
// `signal` combine, so every transport times out and aborts the same way.
import { type NetOperation, TimeoutError } from "../errors.ts";
import type { IoOptions } from "./types.ts";

/** What is being waited for, for the error message. */
export interface OperationInfo {
  operation: NetOperation;
  address: string;
}

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
  if (deadline !== undefined) {
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
      timer = setTimeout(
        () => abandon(new TimeoutError({ ...info, timeoutMs: ms })),
        ms,
      );
    }
    const pending = run(inner.signal);
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
