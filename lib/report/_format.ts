/**
 * Text helpers shared by the reporters: durations, locations, values, and
 * the detail lines of a step (failing expectations, errors).
 *
 * @module
 */
import type { LocatedMessage, SourceLocation, StepResultEvent } from "../runner/events.ts";
import { judgedNumberText, roundFloat, stringifyRounded } from "../_internal/round_float.ts";

/**
 * `123 ms` under a second, `3.2 s` under a minute, `2 min 5 s` above.
 *
 * @param ms Milliseconds.
 * @returns The duration for people.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "? ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/**
 * `file:line:column`.
 *
 * @param location The place.
 * @returns The place as editors and terminals link it.
 */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}

// C0 and C1 control characters except tab: a fixture name or an observed
// value must not move the cursor, clear the screen or break a line.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/**
 * Makes control characters visible (`\n`, `\u001b`) so untrusted text stays
 * on one line and cannot drive the terminal.
 *
 * @param text Any text.
 * @returns The text with control characters escaped.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

/**
 * Splits a possibly multi-line message into lines, each with its control
 * characters escaped.
 *
 * @param text A message.
 * @returns Its lines.
 */
export function messageLines(text: string): string[] {
  return text.split(/\r?\n/).map(escapeControls);
}

const MAX_VALUE_LENGTH = 200;

/**
 * An observed value as one short line: strings quoted, objects as JSON,
 * `absent` for `undefined`, long values cut.
 *
 * @param value The value found in the outcome.
 * @param rounded Whether numbers are written rounded (default true).
 * @returns The value for people.
 */
export function describeValue(value: unknown, rounded = true): string {
  let text: string;
  if (value === undefined) return "absent";
  if (typeof value === "bigint") text = `${value}n`;
  else if (typeof value === "number") text = String(rounded ? roundFloat(value) : value);
  else if (typeof value === "boolean") text = String(value);
  else {
    try {
      text = (rounded ? stringifyRounded(value) : JSON.stringify(value)) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  text = escapeControls(text);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

/**
 * `step "name" (plugin)`, the way every reporter names a step.
 *
 * @param result A step result.
 * @returns The step's label.
 */
export function stepLabel(result: StepResultEvent): string {
  return `step "${escapeControls(result.step.name)}" (${escapeControls(result.step.plugin)})`;
}

/**
 * The lines that explain a step result: each failing expectation (key,
 * expected vs actual, where it is written), the step's error, and the
 * plugin's own error. Empty for a clean pass.
 *
 * @param result A step result.
 * @param indent Spaces before each line.
 * @returns The lines, without line ends.
 */
export function stepDetailLines(result: StepResultEvent, indent: string): string[] {
  const lines: string[] = [];
  for (const expectation of result.expectations) {
    if (expectation.pass) continue;
    lines.push(
      `${indent}${escapeControls(expectation.key)}: expected ${
        escapeControls(expectation.expected)
      }, actual ${
        typeof expectation.actual === "number"
          ? judgedNumberText(
            expectation.actual,
            expectation.expected,
            expectation.roundingMisleads,
          )
          : describeValue(expectation.actual, !expectation.roundingMisleads)
      }`,
      `${indent}  at ${escapeControls(formatLocation(expectation.location))}`,
    );
  }
  if (result.error) lines.push(...problemLines(result.error, indent));
  const outcomeError = result.outcome?.error;
  if (outcomeError && (result.status !== "passed")) {
    lines.push(
      ...messageLines(`${outcomeError.name}: ${outcomeError.message}`).map((line) =>
        `${indent}${line}`
      ),
    );
  }
  return lines;
}

/**
 * A located problem's message, indented; the message names its place.
 *
 * @param problem The problem.
 * @param indent Spaces before each line.
 * @returns The lines.
 */
export function problemLines(problem: LocatedMessage, indent: string): string[] {
  return messageLines(problem.message).map((line) => `${indent}${line}`);
}

/**
 * The last attempt of each step, by step index: the result that decided
 * the step (earlier attempts were retried).
 *
 * @param results Every attempt of one fixture, in the order they came.
 * @returns One result per step, in step order.
 */
export function finalAttempts(results: readonly StepResultEvent[]): StepResultEvent[] {
  const last = new Map<number, StepResultEvent>();
  for (const result of results) {
    const seen = last.get(result.step.index);
    if (!seen || result.attempt >= seen.attempt) last.set(result.step.index, result);
  }
  return [...last.values()].sort((a, b) => a.step.index - b.step.index);
}

/**
 * A key that tells fixtures apart even when names repeat across files.
 *
 * @param fixture The fixture reference.
 * @returns The key.
 */
export function fixtureKey(fixture: { file: string; name: string }): string {
  return `${fixture.file}\0${fixture.name}`;
}
