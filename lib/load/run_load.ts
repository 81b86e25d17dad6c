/**
 * The load engine: runs iterations of a session per virtual user (VU) in the
 * closed model (each VU starts its next iteration when the last ends) or the
 * open model (iterations start on a schedule, whatever the responses).
 *
 * @module
 */
import { ArrivalSchedule } from "./arrival_schedule.ts";
import type { LoadPlan } from "./load_plan.ts";
import { type IterationResult, type LoadInterval, LoadRecorder } from "./_recorder.ts";
import type { LoadReport } from "./load_report.ts";
import { reportOf } from "./_report_of.ts";

/** One VU's connection (or whatever a plugin keeps between iterations). */
export interface LoadSession {
  /** Runs one iteration; a failed exchange is `{ ok: false }`, and a throw counts as one too. */
  iterate(signal: AbortSignal): Promise<IterationResult>;
  /** Releases the session (closes its connection). */
  close(): Promise<void>;
}

/** Opens VU number `vu`'s session; it is opened again after a failed iteration. */
export type SessionFactory = (vu: number, signal: AbortSignal) => Promise<LoadSession>;

/** What the live display is given once a second. */
export interface LoadProgress {
  /** Milliseconds since the start. */
  elapsedMs: number;
  /** Planned length (undefined with `iterations` alone). */
  durationMs?: number;
  /** Iterations ended in the last interval, per second. */
  rate: number;
  /** Failed iterations in the last interval, per second. */
  errorsPerSecond: number;
  /** Corrected median of the last interval, ms. */
  p50Ms: number;
  /** Corrected 99th percentile of the last interval, ms. */
  p99Ms: number;
  /** Iterations so far. */
  iterations: number;
  /** Failed iterations so far. */
  errors: number;
}

/** Options for {@linkcode runLoad}. */
export interface RunLoadOptions {
  /** Stops the run early; the report then has `interrupted: true`. */
  signal?: AbortSignal;
  /** How long iterations still running at the end may finish before they are aborted (default 5000 ms). */
  gracefulStopMs?: number;
  /** Called once a second. */
  onProgress?: (progress: LoadProgress) => void;
  /** Receives each second's histograms (to write an interval log). */
  onInterval?: (interval: LoadInterval) => void;
}

/** A closed-model VU whose iterations fail waits this long first, doubling up to {@linkcode MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 10;
/** Longest wait of a failing closed-model VU: with errors, each VU tries at most once a second. */
export const MAX_BACKOFF_MS = 1000;

interface Vu {
  index: number;
  session?: LoadSession;
}

/**
 * The error type of an iteration still running when the grace period after
 * the run's end ran out (the target hung; `gracefulStopMs`, 5 s by default).
 */
export const UNFINISHED = "unfinished";

/**
 * Runs a load plan. The closed model's latency is each iteration's own;
 * the open model's corrected latency is measured from the iteration's
 * intended start (wrk2's correction for coordinated omission), so a stall
 * counts against every iteration it delays, and the uncorrected latency
 * (from the actual start) is kept beside it.
 *
 * Bounds: every wait is cut short by the run's end or `signal`; a
 * closed-model VU whose iteration fails backs off from 10 ms doubling to
 * 1 s before the next one, so a target refusing every connection sees at
 * most one attempt per VU per second once the back-off has grown (the open
 * model's attempts are bounded by its rate).
 *
 * @param open Opens a VU's session.
 * @param plan A plan from `checkLoadPlan`.
 * @param options Signal, graceful stop, progress and interval sinks.
 * @returns The report (partial when interrupted).
 *
 * @example A closed-model run of a session that always succeeds
 * ```ts
 * import { checkLoadPlan, runLoad } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const report = await runLoad(
 *   () => Promise.resolve({ iterate: () => Promise.resolve({ ok: true, bytes: 2 }), close: () => Promise.resolve() }),
 *   checkLoadPlan({ vus: 2, iterations: 10 }),
 * );
 * assert.equal(report.iterations, 10);
 * assert.equal(report.bytes, 20);
 * assert.equal(report.errors, 0);
 * ```
 */
export async function runLoad(
  open: SessionFactory,
  plan: LoadPlan,
  options: RunLoadOptions = {},
): Promise<LoadReport> {
  // Sessions of the VUs active at the start open before the clock starts
  // (a plugin process, a TLS handshake): the first iterations do not pay for it.
  const vus: Vu[] = [];
  const initial = plan.model === "closed" ? plan.vus : plan.preAllocatedVus;
  for (let i = 0; i < initial; i++) vus.push({ index: i });
  const early = new AbortController();
  const onEarlyAbort = () => early.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onEarlyAbort, { once: true });
  await Promise.all(vus.map(async (vu) => {
    try {
      vu.session = await open(vu.index, early.signal);
    } catch {
      // Opened again, and counted, at its first iteration.
    }
  }));
  options.signal?.removeEventListener("abort", onEarlyAbort);
  const startMs = Date.now();
  const t0 = performance.now();
  const recorder = new LoadRecorder(options.onInterval, startMs, plan.model);
  // Stops dispatch (end of plan, or the caller's signal).
  const stop = new AbortController();
  // Aborts iterations in flight (the caller's signal, or the grace period ran out).
  const hard = new AbortController();
  const onAbort = () => {
    stop.abort();
    hard.abort(options.signal?.reason);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const endAt = plan.durationMs === undefined ? Infinity : t0 + plan.durationMs;
  const endTimer = Number.isFinite(endAt) ? setTimeout(() => stop.abort(), endAt - t0) : undefined;
  let last = recorder.iterations;
  let lastErrors = recorder.errors;
  let lastTick = t0;
  const ticker = setInterval(() => {
    const now = performance.now();
    const row = recorder.closeInterval();
    const seconds = Math.max(1e-3, (now - lastTick) / 1000);
    options.onProgress?.({
      elapsedMs: now - t0,
      ...(plan.durationMs === undefined ? {} : { durationMs: plan.durationMs }),
      rate: (recorder.iterations - last) / seconds,
      errorsPerSecond: (recorder.errors - lastErrors) / seconds,
      p50Ms: row.p50_ms,
      p99Ms: row.p99_ms,
      iterations: recorder.iterations,
      errors: recorder.errors,
    });
    last = recorder.iterations;
    lastErrors = recorder.errors;
    lastTick = now;
  }, 1000);
  let interrupted = 0;
  let dropped = 0;
  let rateWindowMs: number | undefined;

  const iterate = async (vu: Vu, intended: number): Promise<boolean> => {
    const started = performance.now();
    let result: IterationResult;
    try {
      vu.session ??= await open(vu.index, hard.signal);
      result = await vu.session.iterate(hard.signal);
    } catch (error) {
      result = { ok: false, error: errorType(error) };
    }
    const end = performance.now();
    if (hard.signal.aborted) {
      await closeSession(vu);
      if (options.signal?.aborted) {
        // Cut short by the caller's stop, not by the peer: not an error of the target's.
        interrupted++;
        return false;
      }
      // Still running when the grace period after the end ran out: the
      // target hung. Left out, the hang would not show in any figure.
      recorder.record({ ok: false, error: UNFINISHED }, end - intended, end - started);
      return false;
    }
    recorder.record(result, end - intended, end - started);
    if (!result.ok) await closeSession(vu);
    return result.ok;
  };

  const running = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    running.add(p);
    p.finally(() => running.delete(p));
  };

  if (plan.model === "closed") {
    let started = 0;
    const vusAt = rampOf(plan.vus, plan.stages);
    const loop = async (vu: Vu) => {
      let backoff = 0;
      while (!stop.signal.aborted) {
        if (plan.iterations !== undefined && started >= plan.iterations) break;
        if (vu.index >= vusAt(performance.now() - t0)) {
          await closeSession(vu);
          await sleep(50, stop.signal);
          continue;
        }
        started++;
        const ok = await iterate(vu, performance.now());
        if (ok) {
          backoff = 0;
        } else if (!stop.signal.aborted) {
          backoff = Math.min(MAX_BACKOFF_MS, backoff === 0 ? FIRST_BACKOFF_MS : backoff * 2);
          await sleep(backoff, stop.signal);
        }
      }
    };
    for (let i = vus.length; i < plan.maxVus; i++) vus.push({ index: i });
    for (const vu of vus) track(loop(vu));
    await Promise.race([Promise.all([...running]), aborted(stop.signal)]);
  } else {
    const schedule = new ArrivalSchedule(plan.rate, plan.stages, plan.durationMs);
    const idle: Vu[] = [];
    let waiter: (() => void) | undefined;
    const newVu = (): Vu => {
      const vu: Vu = { index: vus.length };
      vus.push(vu);
      return vu;
    };
    idle.push(...vus);
    const t1 = performance.now();
    let offset = schedule.next();
    for (; offset !== undefined; offset = schedule.next()) {
      const intended = t1 + offset;
      const wait = intended - performance.now();
      if (wait >= 1) await sleep(wait, stop.signal);
      // Arrivals due before the end still start when the dispatch runs late
      // (a busy machine); only the caller's signal drops them.
      if (options.signal?.aborted) break;
      let vu = idle.pop();
      if (vu === undefined && vus.length < plan.maxVus) vu = newVu();
      while (vu === undefined && !stop.signal.aborted) {
        // Every VU is busy: this arrival waits, and its corrected latency says so.
        await Promise.race([new Promise<void>((r) => waiter = r), aborted(stop.signal)]);
        vu = idle.pop();
      }
      if (vu === undefined) break;
      const mine = vu;
      track(
        iterate(mine, intended).then(() => {
          idle.push(mine);
          waiter?.();
          waiter = undefined;
        }),
      );
    }
    // Arrivals due before the stop that never started (no VU was free in time).
    const stoppedAt = performance.now() - t1;
    // The rate achieved is over the schedule (or the dispatch, when it ran
    // late), not the wait for the last replies after it.
    rateWindowMs = Math.max(plan.durationMs, stoppedAt);
    for (; offset !== undefined && offset < stoppedAt; offset = schedule.next()) dropped++;
    if (!stop.signal.aborted) await aborted(stop.signal);
  }
  clearTimeout(endTimer);
  // Iterations still running get the grace period, then are aborted.
  const grace = setTimeout(() => hard.abort(), options.gracefulStopMs ?? 5000);
  await Promise.all([...running]);
  clearTimeout(grace);
  clearInterval(ticker);
  options.signal?.removeEventListener("abort", onAbort);
  const elapsedMs = performance.now() - t0;
  recorder.closeInterval();
  await Promise.all(vus.map(closeSession));
  return reportOf(plan, recorder, {
    elapsedMs,
    ...(rateWindowMs === undefined || options.signal?.aborted ? {} : { rateWindowMs }),
    startMs,
    dropped,
    interruptedIterations: interrupted,
    interrupted: options.signal?.aborted === true,
    vusUsed: vus.length,
  });
}

async function closeSession(vu: Vu): Promise<void> {
  const session = vu.session;
  vu.session = undefined;
  try {
    await session?.close();
  } catch {
    // A session that cannot close cleanly is gone all the same.
  }
}

/** The error's `code` when it has one (ECONNREFUSED), else its name. */
function errorType(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : error.name;
  }
  return "Error";
}

/** VUs wanted at `offsetMs`: linear between stage targets, from `start`. */
function rampOf(start: number, stages: readonly { durationMs: number; target: number }[]) {
  return (offsetMs: number): number => {
    let from = start;
    let at = 0;
    for (const stage of stages) {
      if (offsetMs < at + stage.durationMs) {
        return Math.round(from + (stage.target - from) * (offsetMs - at) / stage.durationMs);
      }
      at += stage.durationMs;
      from = stage.target;
    }
    return from;
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}
