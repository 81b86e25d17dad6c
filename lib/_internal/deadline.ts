/**
 * How a `signal`, a relative `timeout` and an absolute `deadline` combine,
 * decided once for every caller:
 *
 * - the earlier of `timeout` (milliseconds from now) and `deadline`
 *   (`Date.now()` milliseconds) wins;
 * - `undefined` and `Infinity` mean no limit, and so does a deadline past
 *   the last time a `Date` can hold (about the year 275760);
 * - 0, or a deadline already past, means the time is up already: the
 *   combined signal is aborted before {@linkcode limitSignal} returns, and
 *   {@linkcode withDeadline} fails with a timeout;
 * - a negative or NaN timeout and a NaN deadline are refused with a
 *   `RangeError`;
 * - a limit beyond 2^31 - 1 ms (the longest `setTimeout` honours) waits
 *   its whole length (see {@linkcode startTimer}).
 *
 * Internal: shared by the transports, the plugin context, the runner and
 * the built-in plugins; not part of the public API.
 *
 * @module
 */
import { type NetOperation, TimeoutError } from "../errors.ts";
import { checkTimeout, startTimer, type Timer } from "./timer.ts";

/** A time limit and a signal, as every option bag in wiretest spells them. */
export interface TimeLimit {
  /** Aborts with its own reason. */
  signal?: AbortSignal;
  /** Milliseconds from now. */
  timeout?: number;
  /** Absolute time (`Date.now()` milliseconds). */
  deadline?: number;
}

/** The last millisecond a `Date` can hold: a deadline beyond it is never reached. */
const LAST_DATE_MS = 8.64e15;

/**
 * The absolute deadline of `limit`: the earlier of its `deadline` and
 * `timeout` from `now`.
 *
 * @param limit The timeout and deadline (the signal is ignored).
 * @param now The current time (`Date.now()` milliseconds).
 * @returns `Date.now()` milliseconds, or `undefined` when there is no limit.
 * @throws {RangeError} When the timeout is negative or NaN, or the deadline NaN.
 */
export function deadlineOf(
  limit: TimeLimit | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!limit) return undefined;
  const timeout = checkTimeout(limit.timeout);
  let { deadline } = limit;
  if (deadline !== undefined && (typeof deadline !== "number" || Number.isNaN(deadline))) {
    throw new RangeError(`Cannot use deadline: "${deadline}" is not a time in milliseconds`);
  }
  if (timeout !== undefined) deadline = Math.min(deadline ?? Infinity, now + timeout);
  return deadline === undefined || deadline > LAST_DATE_MS ? undefined : deadline;
}

/**
 * Milliseconds left under `limit`.
 *
 * @param limit The timeout and deadline (the signal is ignored).
 * @returns 0 or more, or `undefined` when there is no limit.
 * @throws {RangeError} When the timeout is negative or NaN, or the deadline NaN.
 */
export function remainingMs(limit: TimeLimit | undefined): number | undefined {
  const now = Date.now();
  return msLeft(limit, deadlineOf(limit, now), now);
}

function msLeft(limit: TimeLimit | undefined, deadline: number | undefined, now: number) {
  if (deadline === undefined) return undefined;
  // A timeout alone is kept exact (no round trip through the wall clock).
  if (limit?.deadline === undefined) return limit!.timeout!;
  return Math.max(0, deadline - now);
}

/** One signal for a {@linkcode TimeLimit}; dispose it to clear its timer. */
export interface LimitSignal extends Disposable {
  /** Aborts when the limit's signal aborts (its reason) or the time is up. */
  readonly signal: AbortSignal;
  /** The absolute deadline (`Date.now()` milliseconds), or `undefined` when none. */
  readonly deadline: number | undefined;
  /** The milliseconds it was given, or `undefined` when none. */
  readonly ms: number | undefined;
  /** Whether it aborted because the time was up (not because of the signal). */
  readonly timedOut: boolean;
}

/**
 * Combines `limit` into one signal. When the time is up, the signal aborts
 * with what `onTimeout` returns (called then, so it can describe the state
 * at that moment).
 *
 * @param limit Signal, timeout and deadline.
 * @param onTimeout Builds the abort reason for a timeout, from the milliseconds given.
 * @returns The signal; dispose it when done so no timer or listener outlives it.
 * @throws {RangeError} When the timeout is negative or NaN, or the deadline NaN.
 */
export function limitSignal(
  limit: TimeLimit,
  onTimeout: (ms: number) => unknown,
): LimitSignal {
  const now = Date.now();
  const deadline = deadlineOf(limit, now);
  const ms = msLeft(limit, deadline, now);
  const outer = limit.signal;
  const controller = new AbortController();
  let timedOut = false;
  let timer: Timer | undefined;
  const onAbort = () => {
    timer?.clear();
    controller.abort(outer!.reason);
  };
  const expire = () => {
    outer?.removeEventListener("abort", onAbort);
    timedOut = true;
    controller.abort(onTimeout(ms!));
  };
  if (outer?.aborted) controller.abort(outer.reason);
  else if (ms === 0) expire();
  else {
    outer?.addEventListener("abort", onAbort, { once: true });
    if (ms !== undefined) timer = startTimer(ms, expire);
  }
  return {
    signal: controller.signal,
    deadline,
    ms,
    get timedOut() {
      return timedOut;
    },
    [Symbol.dispose]() {
      timer?.clear();
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

/** What is being waited for, for a {@linkcode TimeoutError}'s message. */
export interface OperationInfo {
  /** The operation. */
  operation: NetOperation;
  /** The address it is about. */
  address: string;
}

/**
 * Runs `run` under the limit's timeout, deadline and signal.
 *
 * On timeout it rejects with a {@linkcode TimeoutError} (`operation`,
 * `address` and the milliseconds given); on abort with the signal's reason,
 * except that a `DOMException` named `TimeoutError` (from
 * `AbortSignal.timeout()` or a context's deadline) becomes our
 * {@linkcode TimeoutError} too, with the milliseconds waited and the
 * `DOMException` as its cause: callers meet one class for a timeout.
 * `run` receives a signal that aborts in both cases so it can cancel what it
 * started; `onAbandon` gets the still pending promise so the caller can keep
 * or clean up what it would have produced. When the time is already up,
 * `run` is still started, with an aborted signal, and at once abandoned (so
 * its clean-up runs as for any timeout).
 *
 * @param limit Signal, timeout and deadline.
 * @param info What is being waited for, for the error.
 * @param run Starts the operation.
 * @param onAbandon Receives the pending operation after a timeout or abort.
 * @returns What `run` resolves to.
 */
export function withDeadline<T>(
  limit: TimeLimit | undefined,
  info: OperationInfo,
  run: (signal: AbortSignal | undefined) => Promise<T>,
  onAbandon?: (pending: Promise<T>) => void,
): Promise<T> {
  const ms = remainingMs(limit);
  const outer = limit?.signal;
  if (ms === undefined && !outer) return run(undefined);
  const started = performance.now();
  const reasonOf = (signal: AbortSignal) => ownTimeout(signal.reason, info, started);
  if (outer?.aborted) return Promise.reject(reasonOf(outer));

  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const limited = limitSignal(
      { signal: outer, timeout: ms },
      (timeoutMs) => new TimeoutError({ ...info, timeoutMs }),
    );
    let pending: Promise<T>;
    try {
      pending = run(limited.signal);
    } catch (error) {
      // Thrown before anything started: nothing to abandon.
      limited[Symbol.dispose]();
      reject(limited.signal.aborted ? reasonOf(limited.signal) : error);
      return;
    }
    const abandon = () => {
      if (settled) return;
      settled = true;
      limited[Symbol.dispose]();
      pending.catch(() => {});
      onAbandon?.(pending);
      reject(reasonOf(limited.signal));
    };
    if (limited.signal.aborted) return abandon();
    limited.signal.addEventListener("abort", abandon, { once: true });
    const finish = () => {
      settled = true;
      limited[Symbol.dispose]();
      limited.signal.removeEventListener("abort", abandon);
    };
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
 * A `DOMException` named `TimeoutError` as our {@linkcode TimeoutError} for
 * the operation cut short; any other reason as it is.
 */
function ownTimeout(reason: unknown, info: OperationInfo, started: number): unknown {
  if (!(reason instanceof DOMException) || reason.name !== "TimeoutError") return reason;
  const timeoutMs = Math.round(performance.now() - started);
  return new TimeoutError({ ...info, timeoutMs, cause: reason });
}
