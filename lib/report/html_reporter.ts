/**
 * The HTML reporter: one self-contained page to open in a browser.
 *
 * @module
 */
import type { Reporter, RunEvent } from "../runner/events.ts";
import { renderHtmlPage } from "./_html_page.ts";

/**
 * Creates a reporter that keeps the run's events and, on `close()`, hands
 * `write` one HTML page: the summary (counts, duration, machine, wiretest
 * version, command line), the fixtures with failures first, filters by
 * status, a text search and a deep link per fixture (`#fixture-name`), each
 * step's attempts with params, metrics, facts and expectations (expected,
 * actual, `file:line:column`), invalid fixtures' problems, and the
 * round-trip times' percentile curve when a plugin reports one (echo,
 * udp-ping). Styles, script and the chart library (uPlot) are inlined: the
 * page makes no request and opens from disk. Text from fixtures and peers
 * is only ever set as text, never parsed as HTML.
 *
 * @param write Receives the whole page once (for instance a file write).
 * @returns The reporter.
 *
 * @example A page for a run of one passing fixture
 * ```ts
 * import { htmlReporter } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * let page = "";
 * const reporter = htmlReporter((html) => page += html);
 * const fixture = { file: "echo.wire.yaml", name: "<b>tcp</b> echo" };
 * await reporter.onEvent({ type: "run-start", time: "2025-01-01T00:00:00.000Z", fixtures: 1, concurrency: 1 });
 * await reporter.onEvent({ type: "fixture-start", fixture });
 * await reporter.onEvent({ type: "fixture-end", fixture, status: "passed", durationMs: 3, problems: [] });
 * await reporter.onEvent({
 *   type: "summary", passed: 1, failed: 0, errors: 0, invalid: 0, skipped: 0, total: 1, durationMs: 5,
 * });
 * await reporter.close?.();
 *
 * assert.match(page, /^<!doctype html>/);
 * assert.ok(page.includes("\\u003cb>tcp\\u003c/b> echo")); // data, never markup
 * assert.ok(!page.includes("<b>tcp"));
 * ```
 */
export function htmlReporter(write: (html: string) => void): Reporter {
  const events: RunEvent[] = [];
  return {
    onEvent(event: RunEvent): void {
      events.push(event);
    },
    async close(): Promise<void> {
      write(await renderHtmlPage(events));
    },
  };
}
