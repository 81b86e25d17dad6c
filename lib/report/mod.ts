/**
 * Reporters: they turn the events of a fixture run
 * ({@linkcode RunEvent}, from `lib/runner/events.ts`) into output for people
 * and for tools.
 *
 * - {@linkcode consoleReporter}: a line per fixture, failures with expected,
 *   actual and `file:line:column`, a live progress line on a terminal,
 *   colours unless `NO_COLOR`;
 * - {@linkcode htmlReporter}: one self-contained page with charts, for a browser;
 * - {@linkcode jsonLinesReporter}: each event as a line of JSON;
 * - {@linkcode junitReporter}: JUnit XML for CI test reports;
 * - {@linkcode tapReporter}: TAP 14 with subtests and YAML diagnostics;
 * - {@linkcode createReporter}: one of them by name (`--reporter`).
 *
 * Every reporter has the same shape: `onEvent(event)` for each event in
 * order, `close()` once at the end.
 *
 * @example Reporting one run three ways
 * ```ts
 * import { consoleReporter, jsonLinesReporter, junitReporter } from "@wiretest/wiretest/report";
 * import type { RunEvent } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * const fixture = { file: "tests/fixtures/echo.wire.yaml", name: "tcp echo round trip" };
 * const events: RunEvent[] = [
 *   { type: "run-start", time: "2025-01-01T00:00:00.000Z", fixtures: 1, concurrency: 1 },
 *   { type: "fixture-start", fixture },
 *   { type: "fixture-end", fixture, status: "passed", durationMs: 123, problems: [] },
 *   { type: "summary", passed: 1, failed: 0, errors: 0, invalid: 0, skipped: 0, total: 1, durationMs: 125 },
 * ];
 *
 * let text = "", jsonl = "", xml = "";
 * const reporters = [
 *   consoleReporter({ write: (t) => text += t, color: false }),
 *   jsonLinesReporter((t) => jsonl += t),
 *   junitReporter((t) => xml += t),
 * ];
 * for (const event of events) {
 *   for (const reporter of reporters) await reporter.onEvent(event);
 * }
 * for (const reporter of reporters) await reporter.close?.();
 *
 * assert.match(text, /^1 passed, 0 failed/m);
 * assert.equal(jsonl.trimEnd().split("\n").length, 4);
 * assert.match(xml, /<testcase name="tcp echo round trip"/);
 * ```
 *
 * @module
 */
// The event model, so reporters written elsewhere can implement `Reporter`.
export type * from "../runner/events.ts";
export * from "./console_reporter.ts";
export * from "./html_reporter.ts";
export * from "./json_lines_reporter.ts";
export * from "./junit_reporter.ts";
export * from "./tap_reporter.ts";
export * from "./create_reporter.ts";
