// What an isolated plugin's process sends back from a load run, checked
// before the host uses it: the process runs the plugin's code, which can
// write frames of its own on the socket to the host (see
// tests/fixtures/load_forger). A malformed message fails the run, typed.
import { isRecord } from "../_internal/is_record.ts";
import { MAX_DURATION_MS } from "./load_plan.ts";
import type { LoadInterval } from "./_recorder.ts";
import type { LoadReport } from "./load_report.ts";
import type { LoadProgress } from "./run_load.ts";
import { MAX_ERROR_TYPE_LENGTH, MAX_ERROR_TYPES } from "./_error_types.ts";

/** Longest encoded histogram accepted from a plugin's process (base64 characters). */
const MAX_ENCODED = 8 * 1024 * 1024;
/** Longest distribution text (wrk2's format: a few hundred lines). */
const MAX_DISTRIBUTION = 1024 * 1024;
/** Most per-second rows: a run of the longest plan, and its end. */
const MAX_SERIES = MAX_DURATION_MS / 1000 + 60;

function fail(what: string, field: string): never {
  throw new TypeError(
    `Cannot run load: the plugin's process sent a malformed ${what} ("${field}")`,
  );
}

function count(value: unknown, what: string, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) fail(what, field);
  return value;
}

// A number of the report: finite and not negative (NaN where `nan` allows, an empty percentile).
function number(value: unknown, what: string, field: string, nan = false): number {
  if (typeof value !== "number") fail(what, field);
  if (nan && Number.isNaN(value)) return value;
  if (!Number.isFinite(value) || value < 0) fail(what, field);
  return value;
}

/** A load interval as the engine makes it, or a TypeError. */
export function checkedInterval(value: unknown): LoadInterval {
  const what = "load interval";
  if (!isRecord(value)) fail(what, "interval");
  // The closed model's intervals have one latency: no uncorrected pair.
  const open = value.uncorrected !== undefined || value.uncorrectedMaxMs !== undefined;
  for (
    const field of ["startMs", "endMs", "correctedMaxMs", ...open ? ["uncorrectedMaxMs"] : []]
  ) {
    number(value[field], what, field);
  }
  for (const field of ["corrected", ...open ? ["uncorrected"] : []]) {
    const text = value[field];
    if (
      typeof text !== "string" || text.length > MAX_ENCODED || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)
    ) {
      fail(what, field);
    }
  }
  return value as unknown as LoadInterval;
}

/** Load progress as the engine makes it, or a TypeError. */
export function checkedProgress(value: unknown): LoadProgress {
  const what = "load progress";
  if (!isRecord(value)) fail(what, "progress");
  for (const field of ["elapsedMs", "rate", "errorsPerSecond"]) number(value[field], what, field);
  for (const field of ["p50Ms", "p99Ms"]) number(value[field], what, field, true);
  if (value.durationMs !== undefined) number(value.durationMs, what, "durationMs");
  count(value.iterations, what, "iterations");
  count(value.errors, what, "errors");
  return value as unknown as LoadProgress;
}

/** A load report as the engine makes it, or a TypeError; error types copied into a null-prototype object. */
export function checkedReport(value: unknown): LoadReport {
  const what = "load report";
  if (!isRecord(value)) fail(what, "report");
  if (value.model !== "closed" && value.model !== "open") fail(what, "model");
  if (typeof value.interrupted !== "boolean") fail(what, "interrupted");
  const iterations = count(value.iterations, what, "iterations");
  const errors = count(value.errors, what, "errors");
  if (errors > iterations) fail(what, "errors");
  for (const field of ["dropped", "interruptedIterations", "vusUsed"]) {
    count(value[field], what, field);
  }
  for (const field of ["elapsedMs", "rate", "bytes"]) number(value[field], what, field);
  if (value.askedRate !== undefined) number(value.askedRate, what, "askedRate");
  if (!isRecord(value.errorsByType)) fail(what, "errorsByType");
  const types = Object.entries(value.errorsByType);
  if (types.length > MAX_ERROR_TYPES + 1) fail(what, "errorsByType");
  const errorsByType: Record<string, number> = Object.create(null);
  let sum = 0;
  for (const [type, n] of types) {
    if (type.length > MAX_ERROR_TYPE_LENGTH + 1) fail(what, "errorsByType");
    sum += errorsByType[type] = count(n, what, `errorsByType.${type}`);
  }
  if (sum !== errors) fail(what, "errorsByType");
  for (const field of ["latency", "uncorrected"]) {
    const p = value[field];
    if (!isRecord(p)) fail(what, field);
    count(p.count, what, `${field}.count`);
    for (const key of ["p50", "p90", "p99", "p999", "max", "mean"]) {
      number(p[key], what, `${field}.${key}`, true);
    }
  }
  if (!Array.isArray(value.series) || value.series.length > MAX_SERIES) fail(what, "series");
  for (const row of value.series) {
    if (!isRecord(row)) fail(what, "series");
    for (const key of ["second", "bytes"]) number(row[key], what, `series.${key}`);
    for (const key of ["iterations", "errors"]) count(row[key], what, `series.${key}`);
    for (const key of ["p50_ms", "p90_ms", "p99_ms"]) number(row[key], what, `series.${key}`, true);
  }
  if (typeof value.distribution !== "string" || value.distribution.length > MAX_DISTRIBUTION) {
    fail(what, "distribution");
  }
  return { ...value, errorsByType } as unknown as LoadReport;
}
