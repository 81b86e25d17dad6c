/**
 * Picks a reporter by name, for the CLI's `--reporter` and `--output`.
 *
 * @module
 */
import type { Reporter } from "../runner/events.ts";
import { consoleReporter } from "./console_reporter.ts";
import { htmlReporter } from "./html_reporter.ts";
import { jsonLinesReporter } from "./json_lines_reporter.ts";
import { junitReporter } from "./junit_reporter.ts";
import { tapReporter } from "./tap_reporter.ts";
import { writeStdoutSync } from "../_internal/stdout.ts";

/** The names `--reporter` accepts. */
export type ReporterName = "console" | "html" | "jsonl" | "junit" | "tap";

/** Every {@linkcode ReporterName}, in the order help text lists them. */
export const REPORTER_NAMES: readonly ReporterName[] = Object.freeze([
  "console",
  "html",
  "jsonl",
  "junit",
  "tap",
]);

/**
 * Creates the reporter called `name`: `console` ({@linkcode consoleReporter}),
 * `html` ({@linkcode htmlReporter}), `jsonl` ({@linkcode jsonLinesReporter}),
 * `junit` ({@linkcode junitReporter}) or `tap` ({@linkcode tapReporter}).
 *
 * Without `write`, output goes to standard output, and the console reporter
 * decides colours and the progress line from the terminal. With `write`
 * (an `--output` file), the console reporter writes plain text.
 *
 * @param name The reporter's name.
 * @param write Where the output goes; default: standard output, synchronously.
 * @returns The reporter.
 * @throws {TypeError} When `name` is not one of {@linkcode REPORTER_NAMES}.
 *
 * @example Choosing a reporter from a flag
 * ```ts
 * import { createReporter } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * const lines: string[] = [];
 * const reporter = createReporter("jsonl", (text) => lines.push(text));
 * await reporter.onEvent({ type: "run-start", time: "2025-01-01T00:00:00.000Z", fixtures: 0, concurrency: 1 });
 * assert.equal(JSON.parse(lines[0]).type, "run-start");
 *
 * assert.throws(() => createReporter("xml" as "tap"), TypeError);
 * ```
 */
export function createReporter(name: ReporterName, write?: (text: string) => void): Reporter {
  switch (name) {
    case "console":
      return consoleReporter(write === undefined ? {} : { write });
    case "html":
      return htmlReporter(write ?? writeStdoutSync);
    case "jsonl":
      return jsonLinesReporter(write ?? writeStdoutSync);
    case "junit":
      return junitReporter(write ?? writeStdoutSync);
    case "tap":
      return tapReporter(write ?? writeStdoutSync);
    default:
      throw new TypeError(
        `Cannot create reporter: unknown reporter ${
          JSON.stringify(String(name))
        }, expected one of ${REPORTER_NAMES.map((n) => `"${n}"`).join(", ")}`,
      );
  }
}
