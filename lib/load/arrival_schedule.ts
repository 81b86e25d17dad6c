/**
 * When each iteration of the open model is meant to start: arrivals at a
 * rate that is constant or ramps linearly stage by stage. The k-th arrival
 * is at the time t where the integral of the rate reaches k, so a ramp
 * from 0 to 100/s over 10 s gives 500 arrivals, not a rounded staircase.
 *
 * @module
 */
import type { Stage } from "./load_plan.ts";

interface Segment {
  startMs: number;
  lengthMs: number;
  /** Rates per second at the segment's start and end. */
  from: number;
  to: number;
  /** Arrivals before the segment. */
  before: number;
}

/**
 * The intended start times of an open-model run, in order.
 *
 * @example 10 per second for 1 s
 * ```ts
 * import { ArrivalSchedule } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const schedule = new ArrivalSchedule(10, [], 1000);
 * const times: number[] = [];
 * for (let t = schedule.next(); t !== undefined; t = schedule.next()) times.push(t);
 * assert.deepEqual(times, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
 * ```
 */
export class ArrivalSchedule {
  readonly #segments: Segment[] = [];
  #index = 0;
  #k = 0;

  /**
   * Plans the arrivals.
   *
   * @param rate Iterations per second at the start.
   * @param stages Ramps from there (empty: `rate` for `durationMs`).
   * @param durationMs Length of a constant-rate run (ignored with stages).
   */
  constructor(rate: number, stages: readonly Stage[], durationMs: number) {
    const ramps = stages.length > 0 ? stages : [{ durationMs, target: rate }];
    let startMs = 0;
    let before = 0;
    let from = rate;
    for (const stage of ramps) {
      const to = stage.target;
      this.#segments.push({ startMs, lengthMs: stage.durationMs, from, to, before });
      before += (from + to) / 2000 * stage.durationMs;
      startMs += stage.durationMs;
      from = to;
    }
  }

  /** Arrivals the whole schedule holds (fractional: the integral of the rate). */
  get total(): number {
    const last = this.#segments.at(-1)!;
    return last.before + (last.from + last.to) / 2000 * last.lengthMs;
  }

  /** How many arrivals were handed out. */
  get issued(): number {
    return this.#k;
  }

  /** The next arrival's offset from the start in ms, or `undefined` past the end. */
  next(): number | undefined {
    const k = this.#k;
    while (this.#index < this.#segments.length) {
      const s = this.#segments[this.#index];
      const inSegment = k - s.before;
      const x = offsetOf(s, inSegment);
      if (x !== undefined && x < s.lengthMs) {
        this.#k++;
        return s.startMs + x;
      }
      this.#index++;
    }
    return undefined;
  }

  /** The rate at `offsetMs`, per second. */
  rateAt(offsetMs: number): number {
    for (const s of this.#segments) {
      if (offsetMs < s.startMs + s.lengthMs) {
        return s.from + (s.to - s.from) * Math.max(0, offsetMs - s.startMs) / s.lengthMs;
      }
    }
    return this.#segments.at(-1)!.to;
  }
}

// Solves from/1000·x + (to − from)/(2000·length)·x² = n for x ≥ 0 (x in ms).
function offsetOf(s: Segment, n: number): number | undefined {
  if (n <= 0) return n === 0 ? 0 : undefined;
  if (s.to === s.from) return s.from > 0 ? n * 1000 / s.from : undefined;
  const a = (s.to - s.from) / (2000 * s.lengthMs);
  const b = s.from / 1000;
  const disc = b * b + 4 * a * n;
  if (disc < 0) return undefined;
  return (-b + Math.sqrt(disc)) / (2 * a);
}
