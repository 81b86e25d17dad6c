// The events `wiretest report html` reads from JSON-lines files, checked
// before the page is built: the files may come from anywhere (a CI
// artifact, another machine), and a field of the wrong shape must be one
// located line, not a crash of the page builder or a page that stops
// rendering half-way.
import { isRecord } from "../_internal/is_record.ts";
import type { RunEvent } from "../runner/events.ts";

const RUN_STATUSES = new Set(["passed", "failed", "error", "invalid", "skipped"]);
const STEP_STATUSES = new Set(["passed", "failed", "error"]);

/**
 * Checks one parsed line; returns it typed or throws a TypeError naming the
 * first field that is wrong (the caller adds file and line).
 */
export function checkReportEvent(event: unknown): RunEvent {
  if (!isRecord(event)) throw new TypeError("it is not an object");
  const wrong = (field: string, what: string): never => {
    throw new TypeError(`"${field}" must be ${what}`);
  };
  const string = (value: unknown, field: string) => {
    if (typeof value !== "string") wrong(field, "a string");
  };
  const count = (value: unknown, field: string) => {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      wrong(field, "a whole number, not negative");
    }
  };
  const duration = (value: unknown, field: string) => {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      wrong(field, "a number of milliseconds, not negative");
    }
  };
  const list = (value: unknown, field: string, each?: (item: unknown, at: string) => void) => {
    if (!Array.isArray(value)) wrong(field, "a list");
    if (each) (value as unknown[]).forEach((item, i) => each(item, `${field}[${i}]`));
  };
  const record = (value: unknown, field: string): Record<string, unknown> => {
    if (!isRecord(value)) wrong(field, "an object");
    return value as Record<string, unknown>;
  };
  const location = (value: unknown, field: string) => {
    const l = record(value, field);
    string(l.file, `${field}.file`);
    count(l.line, `${field}.line`);
    count(l.column, `${field}.column`);
  };
  // A problem and its place (LocatedMessage: the place's fields beside the message).
  const located = (value: unknown, field: string) => {
    location(value, field);
    string((value as Record<string, unknown>).message, `${field}.message`);
  };
  const fixture = () => {
    const f = record(event.fixture, "fixture");
    string(f.file, "fixture.file");
    string(f.name, "fixture.name");
  };
  switch (event.type) {
    case "run-start":
      if (event.command !== undefined) list(event.command, "command", string);
      if (event.shard !== undefined) {
        const s = record(event.shard, "shard");
        count(s.index, "shard.index");
        count(s.count, "shard.count");
      }
      if (event.machine !== undefined) {
        const m = record(event.machine, "machine");
        string(m.os, "machine.os");
        string(m.arch, "machine.arch");
        count(m.cpus, "machine.cpus");
        string(m.deno, "machine.deno");
      }
      if (event.wiretest !== undefined) string(event.wiretest, "wiretest");
      break;
    case "fixture-start":
      fixture();
      break;
    case "step-result": {
      fixture();
      const step = record(event.step, "step");
      count(step.index, "step.index");
      string(step.name, "step.name");
      string(step.plugin, "step.plugin");
      location(step.location, "step.location");
      if (!STEP_STATUSES.has(event.status as string)) wrong("status", "passed, failed or error");
      count(event.attempt, "attempt");
      duration(event.durationMs, "durationMs");
      const outcome = record(event.outcome, "outcome");
      if (outcome.metrics !== undefined) record(outcome.metrics, "outcome.metrics");
      if (outcome.facts !== undefined) record(outcome.facts, "outcome.facts");
      list(event.expectations, "expectations", (item, at) => {
        const e = record(item, at);
        string(e.key, `${at}.key`);
        if (e.message !== undefined) string(e.message, `${at}.message`);
        if (e.location !== undefined) location(e.location, `${at}.location`);
      });
      if (event.error !== undefined) located(event.error, "error");
      if (event.load !== undefined) {
        const load = record(event.load, "load");
        list(load.series, "load.series", (row, at) => {
          const r = record(row, at);
          for (const key of ["second", "iterations", "errors", "p50_ms", "p90_ms", "p99_ms"]) {
            // JSON writes an empty second's NaN percentiles as null.
            if (r[key] !== null && (typeof r[key] !== "number" || !Number.isFinite(r[key]))) {
              wrong(`${at}.${key}`, "a number or null");
            }
          }
        });
        if (load.askedRate !== undefined) duration(load.askedRate, "load.askedRate");
      }
      break;
    }
    case "fixture-end":
      fixture();
      if (!RUN_STATUSES.has(event.status as string)) {
        wrong("status", "passed, failed, error, invalid or skipped");
      }
      duration(event.durationMs, "durationMs");
      list(event.problems, "problems", located);
      if (event.reason !== undefined) string(event.reason, "reason");
      if (event.stepsNotRun !== undefined) count(event.stepsNotRun, "stepsNotRun");
      break;
    case "summary":
      for (const key of ["passed", "failed", "errors", "invalid", "skipped", "total"]) {
        count(event[key], key);
      }
      duration(event.durationMs, "durationMs");
      break;
    default:
      throw new TypeError("it is not a wiretest event (--reporter jsonl)");
  }
  return event as unknown as RunEvent;
}
