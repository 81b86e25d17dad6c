/**
 * What a load run is asked to do, as written (`LoadPlanInput`) and once
 * checked ({@linkcode LoadPlan}).
 *
 * @module
 */
import { parseDuration } from "../_internal/duration.ts";
import { isRecord } from "../_internal/is_record.ts";

/** Most virtual users a run may have: each holds a session (a connection, say). */
export const MAX_VUS = 10_000;
/** Highest arrival rate, iterations per second. */
export const MAX_RATE = 1_000_000;
/** Most iterations a closed-model run may be asked for. */
export const MAX_ITERATIONS = 1_000_000_000;
/** Longest run: one day. */
export const MAX_DURATION_MS = 86_400_000;

/** One ramping stage: go linearly to `target` (VUs, or iterations per second) over `duration`. */
export interface StageInput {
  /** How long the stage lasts: `"30s"`, `"1m"` (a bare number is refused: it has no unit). */
  duration: string;
  /** VUs at the stage's end (closed model), or iterations per second (open model). */
  target: number;
}

/** A load plan as a user writes it (CLI flags, a fixture's `load:` block). */
export interface LoadPlanInput {
  /** Closed model: this many VUs, each running iterations back to back. */
  vus?: number;
  /** Open model: start this many iterations per second, whatever the responses. */
  rate?: number;
  /** How long to run: `"10s"`. */
  duration?: string;
  /** Closed model: stop after this many iterations in all. */
  iterations?: number;
  /** Ramping stages (targets are VUs closed, rates open). */
  stages?: StageInput[];
  /** Open model: most VUs to run iterations with (default: enough for 1 s of the top rate, ≤ 1000). */
  maxVus?: number;
  /** Open model: VUs opened before the first iteration (default: min(maxVus, 1 + rate / 100)). */
  preAllocatedVus?: number;
}

/** One checked stage: its length in ms and the target it ramps to. */
export interface Stage {
  /** Length in milliseconds. */
  durationMs: number;
  /** VUs or iterations per second at the stage's end. */
  target: number;
}

/** A checked load plan. */
export type LoadPlan =
  | {
    /** Closed model: each VU starts its next iteration when the last one ends. */
    model: "closed";
    /** VUs at the start. */
    vus: number;
    /** Most VUs ever active (the start or any stage's target). */
    maxVus: number;
    /** How long the run lasts; `undefined` with `iterations` alone. */
    durationMs?: number;
    /** Iterations to run in all, when bounded by count. */
    iterations?: number;
    /** Ramping stages (VU targets); empty for a constant load. */
    stages: Stage[];
  }
  | {
    /** Open model: iterations start on a schedule, whatever the responses. */
    model: "open";
    /** Iterations per second at the start. */
    rate: number;
    /** How long the run lasts. */
    durationMs: number;
    /** Ramping stages (rate targets); empty for a constant rate. */
    stages: Stage[];
    /** Most VUs. */
    maxVus: number;
    /** VUs opened before the first iteration. */
    preAllocatedVus: number;
  };

/**
 * Checks a load plan and converts its durations, refusing what cannot run
 * as meant: both or neither of `vus` and `rate`, counts of 0, negative or
 * absurd (above {@linkcode MAX_VUS}, {@linkcode MAX_RATE}), durations with
 * no unit, and no bound on the run's length.
 *
 * @param input The plan as written.
 * @returns The checked plan.
 * @throws {TypeError} When a field has the wrong type or an unknown name.
 * @throws {RangeError} When a number is out of range or the run is unbounded.
 * @throws {SyntaxError} When a duration cannot be parsed (a bare number has no unit).
 *
 * @example A closed and an open plan
 * ```ts
 * import { checkLoadPlan } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(checkLoadPlan({ vus: 8, duration: "10s" }), {
 *   model: "closed", vus: 8, maxVus: 8, durationMs: 10_000, stages: [],
 * });
 * assert.equal(checkLoadPlan({ rate: 500, duration: "5s" }).model, "open");
 * assert.throws(() => checkLoadPlan({ rate: 1e12, duration: "1s" }), RangeError);
 * assert.throws(() => checkLoadPlan({ vus: 1, duration: "10" }), SyntaxError);
 * ```
 */
export function checkLoadPlan(input: LoadPlanInput): LoadPlan {
  if (!isRecord(input as unknown)) {
    throw new TypeError(`Cannot run load: the plan must be an object, got ${typeName(input)}`);
  }
  if (input.stages !== undefined && !Array.isArray(input.stages)) {
    throw new TypeError(`Cannot run load: "stages" must be a list, got ${typeName(input.stages)}`);
  }
  const known = ["vus", "rate", "duration", "iterations", "stages", "maxVus", "preAllocatedVus"];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) {
      throw new TypeError(`Cannot run load: unknown field "${key}" (known: ${known.join(", ")})`);
    }
  }
  const stages: Stage[] = (input.stages ?? []).map((stage: unknown, i: number) =>
    checkStage(stage, i, input.rate)
  );
  if (input.stages !== undefined && stages.length === 0) {
    throw new RangeError(`Cannot run load: "stages" is empty`);
  }
  const durationMs = input.duration === undefined
    ? undefined
    : checkDuration(input.duration, "duration");
  if (durationMs !== undefined && stages.length > 0) {
    throw new TypeError(`Cannot run load: give "duration" or "stages", not both`);
  }
  const total = stages.length > 0 ? stages.reduce((sum, s) => sum + s.durationMs, 0) : durationMs;
  if (total !== undefined && total > MAX_DURATION_MS) {
    throw new RangeError(`Cannot run load: it would last ${total} ms, above ${MAX_DURATION_MS}`);
  }
  if (input.rate !== undefined) {
    if (input.vus !== undefined) {
      throw new TypeError(
        `Cannot run load: give "vus" (closed model) or "rate" (open model), not both; the open model's VUs are "maxVus"`,
      );
    }
    if (input.iterations !== undefined) {
      throw new TypeError(`Cannot run load: "iterations" is for the closed model ("vus")`);
    }
    // A ramp may start from 0; a constant rate may not.
    const rate = checkNumber(input.rate, "rate", stages.length > 0 ? 0 : 1e-9, MAX_RATE, false);
    if (total === undefined) {
      throw new RangeError(`Cannot run load: the open model needs "duration" or "stages"`);
    }
    const top = Math.max(rate, ...stages.map((s) => s.target));
    if (top === 0) throw new RangeError(`Cannot run load: every rate is 0`);
    const maxVus = input.maxVus === undefined
      ? Math.min(1000, Math.max(1, Math.ceil(top)))
      : checkNumber(input.maxVus, "maxVus", 1, MAX_VUS, true);
    const preAllocatedVus = input.preAllocatedVus === undefined
      ? Math.min(maxVus, 1 + Math.floor(top / 100))
      : checkNumber(input.preAllocatedVus, "preAllocatedVus", 0, maxVus, true);
    return { model: "open", rate, durationMs: total, stages, maxVus, preAllocatedVus };
  }
  if (input.maxVus !== undefined || input.preAllocatedVus !== undefined) {
    throw new TypeError(`Cannot run load: "maxVus" and "preAllocatedVus" are for the open model`);
  }
  if (input.vus === undefined && stages.length === 0) {
    throw new TypeError(
      `Cannot run load: give "vus" (closed model), "rate" (open model) or "stages"`,
    );
  }
  const vus = input.vus === undefined
    ? 1
    : checkNumber(input.vus, "vus", stages.length > 0 ? 0 : 1, MAX_VUS, true);
  const iterations = input.iterations === undefined
    ? undefined
    : checkNumber(input.iterations, "iterations", 1, MAX_ITERATIONS, true);
  if (total === undefined && iterations === undefined) {
    throw new RangeError(`Cannot run load: give "duration", "iterations" or "stages"`);
  }
  const maxVus = Math.max(vus, ...stages.map((s) => s.target));
  if (maxVus === 0) throw new RangeError(`Cannot run load: every VU target is 0`);
  return {
    model: "closed",
    vus,
    maxVus,
    ...(total === undefined ? {} : { durationMs: total }),
    ...(iterations === undefined ? {} : { iterations }),
    stages,
  };
}

function checkStage(stage: unknown, index: number, rate: number | undefined): Stage {
  if (!isRecord(stage)) {
    throw new TypeError(
      `Cannot run load: "stages[${index}]" must be { duration, target }, got ${typeName(stage)}`,
    );
  }
  const open = rate !== undefined;
  return {
    durationMs: checkDuration(stage.duration, `stages[${index}].duration`),
    target: checkNumber(
      stage.target,
      `stages[${index}].target`,
      0,
      open ? MAX_RATE : MAX_VUS,
      !open,
    ),
  };
}

function checkDuration(value: unknown, field: string): number {
  if (typeof value !== "string") {
    throw new SyntaxError(
      `Cannot run load: "${field}" must be a duration with a unit such as "10s", got ${
        JSON.stringify(value)
      }`,
    );
  }
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    const Kind = error instanceof SyntaxError ? SyntaxError : RangeError;
    throw new Kind(`Cannot run load: "${field}": ${(error as Error).message}`, { cause: error });
  }
  if (!(ms > 0)) {
    throw new RangeError(`Cannot run load: "${field}" must be above 0, got "${value}"`);
  }
  if (ms > MAX_DURATION_MS) {
    throw new RangeError(
      `Cannot run load: "${field}" "${value}" is above the limit of ${MAX_DURATION_MS} ms`,
    );
  }
  return ms;
}

function checkNumber(
  value: unknown,
  field: string,
  min: number,
  max: number,
  integer: boolean,
): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`Cannot run load: "${field}" must be a number, got ${typeName(value)}`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new RangeError(`Cannot run load: "${field}" must be a whole number, got "${value}"`);
  }
  if (value < min || value > max) {
    const low = `at least ${min}`;
    throw new RangeError(
      `Cannot run load: "${field}" must be ${low} and at most ${max}, got "${value}"`,
    );
  }
  return value;
}

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : `"${typeof value}"`;
}
