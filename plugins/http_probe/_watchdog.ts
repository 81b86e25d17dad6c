// One deadline for a whole probe. Rather than a timer per read (which sends
// every read through a copying slow path), the watchdog closes the current
// connection when time is up; the failed read or write is then reported as
// the timeout or abort that caused it.
import { type NetOperation, TimeoutError } from "../../lib/errors.ts";
import type { Context } from "../../lib/plugin/types.ts";

/** What the probe is doing, for the timeout's message. */
export interface Activity {
  operation: NetOperation;
  address: string;
}

export class Watchdog implements Disposable {
  readonly #controller = new AbortController();
  readonly #ctx: Context;
  readonly #timeoutMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #onFire: (() => void) | undefined;
  /** Updated by the probe as it goes. */
  activity: Activity;

  constructor(timeoutMs: number, ctx: Context, activity: Activity) {
    this.#ctx = ctx;
    this.activity = activity;
    const byCtx = ctx.deadline === undefined ? Infinity : ctx.deadline - Date.now();
    this.#timeoutMs = Math.max(0, Math.min(timeoutMs, byCtx));
    this.#timer = setTimeout(() => this.#fire(undefined), this.#timeoutMs);
    if (ctx.signal.aborted) this.#fire(ctx.signal.reason);
    else ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Aborts when the deadline passes or the context is cancelled. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Sets what to do when the watchdog fires (close the current connection). */
  onFire(run: () => void): void {
    this.#onFire = run;
  }

  /** The error to report: the timeout or abort when the watchdog fired, else `error`. */
  explain(error: unknown): unknown {
    return this.#controller.signal.aborted ? this.#controller.signal.reason : error;
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#ctx.signal.removeEventListener("abort", this.#onAbort);
  }

  #onAbort = (): void => this.#fire(this.#ctx.signal.reason);

  #fire(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#timer);
    // The context's own deadline aborts with a DOMException; report it like ours.
    const timedOut = reason === undefined ||
      (reason instanceof DOMException && reason.name === "TimeoutError");
    this.#controller.abort(
      timedOut
        ? new TimeoutError({ ...this.activity, timeoutMs: this.#timeoutMs, cause: reason })
        : reason,
    );
    this.#onFire?.();
  }
}
