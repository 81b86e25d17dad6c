/**
 * {@linkcode createContext}: the {@linkcode Context} a plugin role runs with.
 *
 * @module
 */
import { limitSignal } from "../_internal/deadline.ts";
import type { Context, LogLevel, Progress } from "./types.ts";

/** Options for {@linkcode createContext}. */
export interface CreateContextOptions {
  /** Cancels the role when it aborts. */
  signal?: AbortSignal;
  /**
   * Milliseconds the role may take; becomes the context's deadline. 0 means
   * the time is up already; `Infinity` (like leaving it out) means no limit.
   */
  timeout?: number;
  /**
   * Absolute deadline (`Date.now()` milliseconds). The earlier of this and
   * `timeout` wins; one already past aborts the signal at once.
   */
  deadline?: number;
  /** Receives log lines (default: dropped). */
  log?: (level: LogLevel, message: string) => void;
  /** Receives progress updates (default: dropped). */
  progress?: (update: Progress) => void;
}

/** A {@linkcode Context} that owns a timer; dispose it when the role is done. */
export interface OwnedContext extends Context, Disposable {}

/**
 * Builds a context whose signal aborts when the given signal aborts (with
 * its reason) or the deadline passes (with a `DOMException` named
 * `TimeoutError`). Any timeout works, however long: the signal aborts only
 * once it has passed.
 *
 * @param options Signal, timeout or deadline, and log/progress sinks.
 * @returns The context; `using` it clears its timer.
 * @throws {RangeError} When `timeout` is negative or not a number, or `deadline` is NaN.
 *
 * @example A context with a deadline
 * ```ts
 * import { createContext } from "@wiretest/wiretest/plugin";
 * import assert from "node:assert/strict";
 *
 * using ctx = createContext({ timeout: 5_000 });
 * assert.ok(ctx.deadline! > Date.now());
 * assert.equal(ctx.signal.aborted, false);
 * ```
 */
export function createContext(options: CreateContextOptions = {}): OwnedContext {
  const limit = limitSignal(
    options,
    (ms) => new DOMException(`Deadline of ${ms} ms passed`, "TimeoutError"),
  );
  const log = options.log ?? (() => {});
  const progress = options.progress ?? (() => {});
  return {
    signal: limit.signal,
    deadline: limit.deadline,
    log,
    progress,
    [Symbol.dispose]: limit[Symbol.dispose],
  };
}
