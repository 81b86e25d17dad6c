/**
 * {@linkcode createContext}: the {@linkcode Context} a plugin role runs with.
 *
 * @module
 */
import type { Context, LogLevel, Progress } from "./types.ts";

/** Options for {@linkcode createContext}. */
export interface CreateContextOptions {
  /** Cancels the role when it aborts. */
  signal?: AbortSignal;
  /** Milliseconds the role may take; becomes the context's deadline. */
  timeout?: number;
  /** Absolute deadline (`Date.now()` milliseconds). The earlier of this and `timeout` wins. */
  deadline?: number;
  /** Receives log lines (default: dropped). */
  log?: (level: LogLevel, message: string) => void;
  /** Receives progress updates (default: dropped). */
  progress?: (update: Progress) => void;
}

/** A {@linkcode Context} that owns a timer; dispose it when the role is done. */
export interface OwnedContext extends Context, Disposable {}

/**
 * Builds a context whose signal aborts when the given signal aborts or the
 * deadline passes (with a `DOMException` named `TimeoutError`).
 *
 * @param options Signal, timeout or deadline, and log/progress sinks.
 * @returns The context; `using` it clears its timer.
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
  let deadline = options.deadline;
  if (options.timeout !== undefined) {
    if (!(options.timeout >= 0)) {
      throw new RangeError(`Cannot create context: timeout "${options.timeout}" is negative`);
    }
    const byTimeout = Date.now() + options.timeout;
    deadline = deadline === undefined ? byTimeout : Math.min(deadline, byTimeout);
  }
  const controller = new AbortController();
  const outer = options.signal;
  const onAbort = () => controller.abort(outer!.reason);
  if (outer?.aborted) controller.abort(outer.reason);
  else outer?.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (deadline !== undefined && !controller.signal.aborted) {
    const ms = Math.max(0, deadline - Date.now());
    timer = setTimeout(() => {
      controller.abort(new DOMException(`Deadline of ${ms} ms passed`, "TimeoutError"));
    }, ms);
  }
  const log = options.log ?? (() => {});
  const progress = options.progress ?? (() => {});
  return {
    signal: controller.signal,
    deadline,
    log,
    progress,
    [Symbol.dispose]() {
      if (timer !== undefined) clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}
