/**
 * The JSON lines reporter: every run event as one JSON object per line.
 *
 * @module
 */
import type { Reporter, RunEvent } from "../runner/events.ts";
import { stringifyRounded } from "../_internal/round_float.ts";

// JSON.stringify escapes \n and \r but leaves these raw; readers that split
// on every Unicode line break (Python's splitlines) would cut an event.
const UNICODE_LINE_BREAKS = /[\u0085\u2028\u2029]/g;

function escapeChar(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/**
 * Creates a reporter that writes each {@linkcode RunEvent} as it comes, as
 * one line of JSON (https://jsonlines.org): the event object itself, with
 * its `type` field, so tools read a run with `JSON.parse` per line or
 * `jq`. Each line is handed to `write` whole, ending in `\n`, so a
 * consumer following the file never sees half an event.
 *
 * @param write Where each line goes (for instance a synchronous file write).
 * @returns The reporter.
 *
 * @example One line per event
 * ```ts
 * import { jsonLinesReporter } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const reporter = jsonLinesReporter((line) => lines.push(line));
 * reporter.onEvent({ type: "run-start", time: "2025-01-01T00:00:00.000Z", fixtures: 0, concurrency: 1 });
 * reporter.onEvent({
 *   type: "summary", passed: 0, failed: 0, errors: 0, invalid: 0, skipped: 0, total: 0, durationMs: 1,
 * });
 *
 * assert.equal(lines.length, 2);
 * assert.ok(lines.every((line) => line.endsWith("\n")));
 * assert.equal(JSON.parse(lines[1]).type, "summary");
 * ```
 */
export function jsonLinesReporter(write: (text: string) => void): Reporter {
  return {
    onEvent(event: RunEvent): void {
      write(`${stringifyRounded(event).replace(UNICODE_LINE_BREAKS, escapeChar)}\n`);
    },
  };
}
