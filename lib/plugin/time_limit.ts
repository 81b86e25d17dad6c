/**
 * Time limits for plugin authors: one signal for a context's signal, a
 * timeout and a deadline ({@linkcode deadlineSignal}), an operation raced
 * against them ({@linkcode withDeadline}), the absolute deadline they make
 * ({@linkcode deadlineOf}), and a promise awaited at most so long
 * ({@linkcode within}). The built-in plugins use exactly these; they wrap the
 * rules every transport and the runner follow, so a plugin's limits behave
 * like theirs:
 *
 * - the earlier of `timeout` (milliseconds from now) and `deadline`
 *   (`Date.now()` milliseconds) wins; `undefined` and `Infinity` mean none;
 * - 0, or a deadline already past, means the time is up already;
 * - a negative or NaN timeout and a NaN deadline are refused with a `RangeError`.
 *
 * @module
 */
import {
  deadlineOf as internalDeadlineOf,
  limitSignal,
  withDeadline as internalWithDeadline,
} from "../_internal/deadline.ts";
import { TIMED_OUT as INTERNAL_TIMED_OUT, within as internalWithin } from "../_internal/within.ts";
import type { NetOperation } from "../errors.ts";

/** A signal, a relative timeout and an absolute deadline, as a context and every option bag spell them. */
export interface TimeLimit {
  /** Aborts with its own reason. */
  signal?: AbortSignal;
  /** Milliseconds from now. */
  timeout?: number;
  /** Absolute time (`Date.now()` milliseconds). */
  deadline?: number;
}

/** One signal for a {@linkcode TimeLimit}; dispose it to clear its timer. */
export interface DeadlineSignal extends Disposable {
  /** Aborts when the limit's signal aborts (with its reason) or the time is up. */
  readonly signal: AbortSignal;
  /** The absolute deadline (`Date.now()` milliseconds), or `undefined` when none. */
  readonly deadline: number | undefined;
  /** The milliseconds it was given, or `undefined` when none. */
  readonly ms: number | undefined;
  /** Whether it aborted because the time was up (not because of the signal). */
  readonly timedOut: boolean;
}

/** What is being waited for, for the {@linkcode TimeoutError} of {@linkcode withDeadline}. */
export interface DeadlineOperation {
  /** The operation. */
  operation: NetOperation;
  /** The address it is about. */
  address: string;
}

/**
 * Combines `limit` (typically a context's `signal` and `deadline` with the
 * plugin's own timeout) into one signal. When the time is up, the signal
 * aborts with what `onTimeout` returns, called then, so the reason can
 * describe what the plugin was doing at that moment.
 *
 * @example A context's signal and a timeout as one signal
 * ```ts
 * import { deadlineSignal } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const cancel = new AbortController();
 * using limit = deadlineSignal(
 *   { signal: cancel.signal, timeout: 60_000 },
 *   (ms) => new Error(`gave up after ${ms} ms`),
 * );
 * assert.equal(limit.ms, 60_000);
 * cancel.abort(new Error("stopped"));
 * assert.equal((limit.signal.reason as Error).message, "stopped");
 * assert.equal(limit.timedOut, false);
 *
 * using spent = deadlineSignal({ deadline: Date.now() - 1 }, (ms) => new Error(`${ms} ms`));
 * assert.equal(spent.signal.aborted, true);
 * assert.equal(spent.timedOut, true);
 * ```
 *
 * @param limit Signal, timeout and deadline.
 * @param onTimeout Builds the abort reason for a timeout, from the milliseconds given.
 * @returns The signal; dispose it when done so no timer or listener outlives it.
 * @throws {RangeError} When the timeout is negative or NaN, or the deadline NaN.
 */
export function deadlineSignal(
  limit: TimeLimit,
  onTimeout: (ms: number) => unknown,
): DeadlineSignal {
  return limitSignal(limit, onTimeout);
}

/**
 * Runs `run` under the limit's timeout, deadline and signal. On timeout it
 * rejects with a {@linkcode TimeoutError} naming `info` and the milliseconds
 * given; on abort with the signal's reason (a `DOMException` named
 * `TimeoutError`, from `AbortSignal.timeout()`, becomes a
 * {@linkcode TimeoutError} too). `run` gets a signal that aborts in both
 * cases, to cancel what it started; `onAbandon` gets the still pending
 * promise after a timeout or abort, to clean up what it would produce.
 *
 * @example An operation that takes too long
 * ```ts
 * import { TimeoutError, withDeadline } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * const value = await withDeadline(
 *   { timeout: 5_000 },
 *   { operation: "read", address: "127.0.0.1:7" },
 *   () => Promise.resolve(42),
 * );
 * assert.equal(value, 42);
 *
 * await assert.rejects(
 *   withDeadline(
 *     { timeout: 10 },
 *     { operation: "read", address: "127.0.0.1:7" },
 *     (signal) =>
 *       new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason))),
 *   ),
 *   (error) => error instanceof TimeoutError && error.timeoutMs === 10,
 * );
 * ```
 *
 * @param limit Signal, timeout and deadline.
 * @param info What is being waited for, for the error.
 * @param run Starts the operation.
 * @param onAbandon Receives the pending operation after a timeout or abort.
 * @returns What `run` resolves to.
 * @throws {RangeError} When the timeout is negative or NaN, or the deadline NaN.
 */
export function withDeadline<T>(
  limit: TimeLimit | undefined,
  info: DeadlineOperation,
  run: (signal: AbortSignal | undefined) => Promise<T>,
  onAbandon?: (pending: Promise<T>) => void,
): Promise<T> {
  return internalWithDeadline(limit, info, run, onAbandon);
}

/**
 * The absolute deadline of `limit`: the earlier of its `deadline` and its
 * `timeout` from `now`. A plugin turns its own timeout and the context's
 * deadline into one deadline this way, once, before several operations.
 *
 * @example A timeout that ends before the context's deadline
 * ```ts
 * import { deadlineOf } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.equal(deadlineOf({ timeout: 100, deadline: 5_000 }, 1_000), 1_100);
 * assert.equal(deadlineOf({ timeout: 100, deadline: 1_050 }, 1_000), 1_050);
 * assert.equal(deadlineOf({ timeout: Infinity }), undefined);
 * assert.throws(() => deadlineOf({ timeout: -1 }), RangeError);
 * ```
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
  return internalDeadlineOf(limit, now);
}

/** What {@linkcode within} gives when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Settles with `promise`, or with {@linkcode TIMED_OUT} after `ms`, without
 * cancelling `promise`. A value that arrives late is handed to `onLate` (to
 * close what started too late); a late rejection is ignored.
 *
 * @example Waiting at most so long
 * ```ts
 * import { TIMED_OUT, within } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await within(Promise.resolve("ack"), 1_000), "ack");
 * const never = new Promise<string>(() => {});
 * assert.equal(await within(never, 10), TIMED_OUT);
 * ```
 *
 * @param promise What to wait for.
 * @param ms How long at most (0 or less: the time is up already, though a
 * promise already settled still wins); `Infinity` waits as long as it takes.
 * @param onLate Receives a value that arrives after the time ran out.
 * @returns The value, or `TIMED_OUT`.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  onLate?: (value: T) => void,
): Promise<T | typeof TIMED_OUT> {
  const result = await internalWithin(promise, ms, onLate);
  return result === INTERNAL_TIMED_OUT ? TIMED_OUT : result;
}
