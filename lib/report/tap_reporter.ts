/**
 * The TAP 14 reporter, for TAP consumers and harnesses.
 *
 * @module
 */
import { stringify } from "yaml";
import type {
  FixtureEndEvent,
  LocatedMessage,
  Reporter,
  RunEvent,
  SourceLocation,
  StepResultEvent,
  SummaryEvent,
} from "../runner/events.ts";
import { escapeControls, finalAttempts } from "./_format.ts";
import { grantLine } from "./_grants.ts";
import { StepLog } from "./_step_log.ts";
import { judgedNumber } from "../_internal/round_float.ts";

/**
 * Creates a reporter that writes a TAP 14 stream
 * (https://testanything.org/tap-version-14-specification.html) as the run
 * goes:
 * - `TAP version 14`, then one test point per fixture, numbered in the
 *   order fixtures end; the plan (`1..N`) comes last, so it is right even
 *   when a run stops early;
 * - each fixture that ran steps is a subtest (`# Subtest: …`, then a
 *   4-space indented stream with one test point per step, its last attempt);
 * - a YAML diagnostic block (`  ---` … `  ...`) after each test point with
 *   `duration_ms`; for failures also `message`, `severity`, and per failing
 *   expectation its `key`, `expected`, `actual` and `at` (`file`, `line`,
 *   `column`); for errors and invalid fixtures each located problem;
 * - `# SKIP` on fixtures that were not run;
 * - closing comments with the counts.
 *
 * `#` and `\` in descriptions are escaped as TAP 14 asks, control characters
 * are written visibly, and YAML is produced by the `yaml` library.
 *
 * @param write Receives the stream, one block per fixture.
 * @returns The reporter.
 *
 * @example A passing fixture in TAP
 * ```ts
 * import { tapReporter } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * let tap = "";
 * const reporter = tapReporter((text) => tap += text);
 * const fixture = { file: "echo.wire.yaml", name: "echo" };
 * reporter.onEvent({ type: "run-start", time: "2025-01-01T00:00:00.000Z", fixtures: 1, concurrency: 1 });
 * reporter.onEvent({ type: "fixture-end", fixture, status: "passed", durationMs: 5, problems: [] });
 * reporter.onEvent({
 *   type: "summary", passed: 1, failed: 0, errors: 0, invalid: 0, skipped: 0, total: 1, durationMs: 6,
 * });
 *
 * assert.ok(tap.startsWith("TAP version 14\n"));
 * assert.match(tap, /^ok 1 - echo \(echo\.wire\.yaml\)$/m);
 * assert.match(tap, /^1\.\.1$/m);
 * ```
 */
export function tapReporter(write: (text: string) => void): Reporter {
  const steps = new StepLog();
  let started = false;
  let ended = false;
  let count = 0;

  function out(lines: string[]): void {
    if (!started) {
      started = true;
      lines.unshift("TAP version 14");
    }
    write(`${lines.join("\n")}\n`);
  }

  function end(summary?: SummaryEvent): void {
    if (ended) return;
    ended = true;
    const lines = [`1..${count}`];
    if (summary) {
      lines.push(
        `# tests ${summary.total}`,
        `# pass ${summary.passed}`,
        `# fail ${summary.failed}`,
        `# error ${summary.errors}`,
        `# invalid ${summary.invalid}`,
        `# skip ${summary.skipped}`,
        `# duration_ms ${Math.round(summary.durationMs)}`,
      );
    }
    out(lines);
  }

  return {
    onEvent(event: RunEvent): void {
      if (ended) return;
      switch (event.type) {
        case "run-start": {
          const shard = event.shard ? `, shard ${event.shard.index}/${event.shard.count}` : "";
          out([
            `# wiretest: ${event.fixtures} fixtures, concurrency ${event.concurrency}${shard}`,
            ...(event.plugins ?? []).map((grant) => `# ${grantLine(grant)}`),
          ]);
          break;
        }
        case "step-result":
          steps.add(event);
          break;
        case "fixture-end":
          count++;
          out(fixtureLines(count, event, steps.take(event.fixture)));
          break;
        case "summary":
          end(event);
          break;
      }
    },
    close(): void {
      end();
    },
  };
}

/** Escapes a description: one line, `\` and `#` escaped (TAP 14). */
function description(text: string): string {
  return escapeControls(text).replace(/\\/g, "\\\\").replace(/#/g, "\\#");
}

function fixtureLines(number: number, end: FixtureEndEvent, steps: StepResultEvent[]): string[] {
  const name = description(`${end.fixture.name} (${end.fixture.file})`);
  const lines: string[] = [];
  const decided = finalAttempts(steps);
  if (decided.length > 0) {
    // A comment line: `#` needs no escape there, so consumers show the same name.
    lines.push(`# Subtest: ${escapeControls(`${end.fixture.name} (${end.fixture.file})`)}`);
    const sub = [`1..${decided.length}`];
    decided.forEach((result, i) => sub.push(...stepLines(i + 1, result)));
    lines.push(...sub.map((line) => `    ${line}`));
  }

  if (end.status === "skipped") {
    const reason = end.problems[0]?.message;
    lines.push(`ok ${number} - ${name} # SKIP${reason ? ` ${description(reason)}` : ""}`);
    return lines;
  }
  const ok = end.status === "passed";
  lines.push(`${ok ? "ok" : "not ok"} ${number} - ${name}`);
  const diagnostics: Record<string, unknown> = {};
  if (!ok) {
    diagnostics.message = fixtureMessage(end, decided);
    diagnostics.severity = "fail";
    diagnostics.status = end.status;
    diagnostics.at = { file: end.fixture.file };
  }
  diagnostics.duration_ms = Math.round(end.durationMs);
  if (end.problems.length > 0) diagnostics.problems = end.problems.map(problemData);
  lines.push(...yamlBlock(diagnostics));
  return lines;
}

function fixtureMessage(end: FixtureEndEvent, decided: StepResultEvent[]): string {
  const { problems } = end;
  if (end.status === "invalid") {
    return problems.length === 1 ? problems[0].message : `fixture has ${problems.length} problems`;
  }
  if (end.status === "error") {
    return decided.find((r) => r.error)?.error?.message ?? problems[0]?.message ??
      "fixture could not run";
  }
  const failed = decided.filter((r) => r.status === "failed").length;
  if (failed > 0) {
    return `${failed} of ${decided.length} ${decided.length === 1 ? "step" : "steps"} failed`;
  }
  return problems[0]?.message ?? "fixture failed";
}

function stepLines(number: number, result: StepResultEvent): string[] {
  const name = description(`${result.step.name} (${result.step.plugin})`);
  const ok = result.status === "passed";
  const diagnostics: Record<string, unknown> = {};
  if (result.status === "failed") {
    const failing = result.expectations.filter((e) => !e.pass);
    diagnostics.message = `${failing.length} of ${result.expectations.length} expectations failed`;
    diagnostics.severity = "fail";
    diagnostics.failures = failing.map((e) => ({
      key: e.key,
      expected: e.expected,
      ...(e.actual === undefined ? { found: false } : {
        actual: typeof e.actual === "number"
          ? judgedNumber(e.actual, e.expected, e.roundingMisleads)
          : e.actual,
      }),
      at: at(e.location),
    }));
  } else if (result.status === "error") {
    diagnostics.message = result.error?.message ?? "step could not run";
    diagnostics.severity = "fail";
    diagnostics.status = "error";
    diagnostics.at = at(result.error ?? result.step.location);
  }
  if (!ok && result.outcome?.error) diagnostics.error = result.outcome.error;
  if (result.attempt > 1) diagnostics.attempt = result.attempt;
  diagnostics.duration_ms = Math.round(result.durationMs);
  return [`${ok ? "ok" : "not ok"} ${number} - ${name}`, ...yamlBlock(diagnostics)];
}

function at(location: SourceLocation): Record<string, unknown> {
  return { file: location.file, line: location.line, column: location.column };
}

function problemData(problem: LocatedMessage): Record<string, unknown> {
  return { message: problem.message, at: at(problem), field: problem.path };
}

/** A YAML diagnostic block, indented two spaces under its test point. */
function yamlBlock(data: Record<string, unknown>): string[] {
  // No block scalars and no folding: every value stays on its key's line,
  // so no content line can read as the block's `---` or `...` markers.
  const yaml = stringify(data, { lineWidth: 0, blockQuote: false }).trimEnd();
  return ["  ---", ...yaml.split("\n").map((line) => `  ${line}`), "  ..."];
}
