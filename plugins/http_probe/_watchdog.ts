// One deadline for a whole probe. Rather than a timer per read (which sends
// every read through a copying slow path), the watchdog closes the current
// connection when time is up; the failed read or write is then reported as
// the timeout or abort that caused it.
import { type NetOperation, TimeoutError } from "../../lib/transport/mod.ts";
import { type Context, type DeadlineSignal, deadlineSignal } from "../../lib/plugin/mod.ts";

/** What the probe is doing, for the timeout's message. */
export interface Activity {
  operation: NetOperation;
  address: string;
}

export class Watchdog implements Disposable {
  readonly #controller = new AbortController();
  #limit: DeadlineSignal | undefined;
  readonly #timeoutMs: number;
  readonly #ctx: Context;
  #onFire: (() => void) | undefined;
  /** Updated by the probe as it goes. */
  activity: Activity;

  /**
   * @param deferred Start the clock at {@linkcode Watchdog.start}, not now:
   * what runs before (the warm-up, bounded on its own) is not the probe's time.
   */
  constructor(timeoutMs: number, ctx: Context, activity: Activity, deferred = false) {
    this.activity = activity;
    this.#timeoutMs = timeoutMs;
    this.#ctx = ctx;
    if (!deferred) this.start();
  }

  /** Starts the clock (once; a watchdog not deferred has started). */
  start(): void {
    if (this.#limit) return;
    const ctx = this.#ctx;
    // Described when it fires, so the timeout names what the probe was doing then.
    const limit = this.#limit = deadlineSignal(
      { signal: ctx.signal, timeout: this.#timeoutMs, deadline: ctx.deadline },
      (ms) => new TimeoutError({ ...this.activity, timeoutMs: ms }),
    );
    if (limit.signal.aborted) this.#fire();
    else limit.signal.addEventListener("abort", this.#fire, { once: true });
  }

  /** Aborts when the deadline passes or the context is cancelled. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Sets what to do when the watchdog fires (close the current connection). */
  onFire(run: () => void): void {
    this.#onFire = run;
  }

  /**
   * Fires now if the deadline has passed: for work that holds the event
   * loop (decoding a body runs synchronously), where the timer cannot run.
   */
  check(): void {
    const deadline = this.#limit?.deadline;
    if (this.#controller.signal.aborted || deadline === undefined || Date.now() < deadline) return;
    this.#controller.abort(new TimeoutError({ ...this.activity, timeoutMs: this.#limit?.ms ?? 0 }));
    this.#onFire?.();
  }

  /** The error to report: the timeout or abort when the watchdog fired, else `error`. */
  explain(error: unknown): unknown {
    return this.#controller.signal.aborted ? this.#controller.signal.reason : error;
  }

  [Symbol.dispose](): void {
    this.#limit?.[Symbol.dispose]();
    this.#limit?.signal.removeEventListener("abort", this.#fire);
  }

  #fire = (): void => {
    if (this.#controller.signal.aborted) return;
    const reason = this.#limit!.signal.reason;
    // The context's own deadline aborts with a DOMException; report it like ours.
    const theirs = reason instanceof DOMException && reason.name === "TimeoutError";
    this.#controller.abort(
      theirs
        ? new TimeoutError({ ...this.activity, timeoutMs: this.#limit!.ms ?? 0, cause: reason })
        : reason,
    );
    this.#onFire?.();
  };
}

/** What a session needs of a watchdog (see {@linkcode Watchdog}). */
export type WatchdogLike = Pick<Watchdog, "signal" | "activity" | "onFire" | "check" | "explain">;

/**
 * A load VU's watchdog: the same bound per iteration as {@linkcode Watchdog}
 * gives a whole probe, without a timer, signal and listeners per
 * iteration. One timer is armed at a time and re-armed for what is left of
 * the current iteration when it fires early.
 */
export class IterationWatchdog implements WatchdogLike, Disposable {
  #controller = new AbortController();
  #onFire: (() => void) | undefined;
  #deadline = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #outer: AbortSignal | undefined;
  readonly #timeoutMs: number;
  /** Updated by the probe as it goes. */
  activity: Activity;

  constructor(timeoutMs: number, activity: Activity) {
    this.#timeoutMs = timeoutMs;
    this.activity = activity;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  onFire(run: () => void): void {
    this.#onFire = run;
  }

  /** Starts an iteration: `timeoutMs` from now, cut short when `signal` aborts. */
  begin(signal: AbortSignal, activity: Activity): void {
    if (this.#controller.signal.aborted) this.#controller = new AbortController();
    this.activity = activity;
    this.#deadline = performance.now() + this.#timeoutMs;
    if (this.#outer !== signal) {
      this.#outer?.removeEventListener("abort", this.#onAbort);
      this.#outer = signal;
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    if (signal.aborted) this.#onAbort();
    else if (this.#timer === undefined) this.#arm(this.#timeoutMs);
  }

  /** Ends the iteration: the armed timer finds nothing to bound. */
  end(): void {
    this.#deadline = Infinity;
  }

  check(): void {
    if (performance.now() >= this.#deadline) this.#expire();
  }

  explain(error: unknown): unknown {
    return this.#controller.signal.aborted ? this.#controller.signal.reason : error;
  }

  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#outer?.removeEventListener("abort", this.#onAbort);
    this.#outer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#tick, Math.max(0, Math.ceil(ms)));
  }

  #tick = (): void => {
    this.#timer = undefined;
    if (this.#deadline === Infinity) return;
    const left = this.#deadline - performance.now();
    if (left <= 0) this.#expire();
    else this.#arm(left);
  };

  #expire(): void {
    this.#fire(new TimeoutError({ ...this.activity, timeoutMs: this.#timeoutMs }));
  }

  #onAbort = (): void => this.#fire(this.#outer?.reason);

  #fire(reason: unknown): void {
    if (this.#controller.signal.aborted || this.#deadline === Infinity) return;
    this.#controller.abort(reason);
    this.#onFire?.();
  }
}
