/**
 * The JUnit XML reporter, for CI systems that show test results.
 *
 * @module
 */
import type {
  FixtureEndEvent,
  PluginGrant,
  Reporter,
  RunEvent,
  StepResultEvent,
  SummaryEvent,
} from "../runner/events.ts";
import {
  describeValue,
  finalAttempts,
  formatDuration,
  messageLines,
  problemLines,
  stepDetailLines,
  stepLabel,
} from "./_format.ts";
import { grantsFor, grantsText } from "./_grants.ts";
import { StepLog } from "./_step_log.ts";
import { xmlAttr, xmlText } from "./_xml.ts";

interface TestCase {
  end: FixtureEndEvent;
  steps: StepResultEvent[];
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

/**
 * Creates a reporter that writes one JUnit XML document for the run, when
 * the `summary` event comes (or at `close()` if the run stopped before it).
 *
 * The layout is the one Jenkins, GitLab and GitHub test-report actions
 * read:
 * - `<testsuites name="wiretest">` with the run's counts, wall-clock time
 *   and start time;
 * - one `<testsuite>` per fixture file (`name` = the file), so results group
 *   by file as they do for source tests;
 * - one `<testcase>` per fixture: `classname` and `file` = the file,
 *   `name` = the fixture's name, `time` in seconds;
 * - `<failure type="expectation">` when expectations did not hold: the
 *   `message` gives the first, the body lists every failing expectation
 *   with expected, actual and `file:line:column`;
 * - `<error type="error">` when a step or service could not run and
 *   `<error type="invalid">` for an invalid fixture, with every located
 *   problem, so CI tells broken fixtures and crashes from failed checks;
 * - `<skipped/>` for fixtures not run;
 * - `<system-out>` with one line per step attempt and its metrics.
 *
 * Text is escaped for XML 1.0; characters XML cannot carry (most control
 * characters) are written as a visible `\uXXXX`.
 *
 * @param write Receives the whole document in one call.
 * @returns The reporter.
 *
 * @example A failed fixture in JUnit XML
 * ```ts
 * import { junitReporter } from "@wiretest/wiretest/report";
 * import assert from "node:assert/strict";
 *
 * let xml = "";
 * const reporter = junitReporter((text) => xml += text);
 * const fixture = { file: "http.wire.yaml", name: "status is 200" };
 * const location = { file: "http.wire.yaml", line: 9, column: 21, path: "steps[0].expect.facts.status" };
 * reporter.onEvent({ type: "run-start", time: "2025-01-01T00:00:00.000Z", fixtures: 1, concurrency: 1 });
 * reporter.onEvent({
 *   type: "step-result", fixture, status: "failed", attempt: 1, willRetry: false, durationMs: 12,
 *   step: { index: 0, name: "http-probe #0", plugin: "http-probe", location: { ...location, column: 5, path: "steps[0]" } },
 *   outcome: { ok: true, metrics: {}, facts: { status: 503 } },
 *   expectations: [{
 *     key: "facts.status", pass: false, expected: "200", actual: 503, location,
 *     message: 'http.wire.yaml:9:21: "facts.status" is 503, expected 200',
 *   }],
 * });
 * reporter.onEvent({ type: "fixture-end", fixture, status: "failed", durationMs: 15, problems: [] });
 * reporter.onEvent({
 *   type: "summary", passed: 0, failed: 1, errors: 0, invalid: 0, skipped: 0, total: 1, durationMs: 20,
 * });
 *
 * assert.match(xml, /<testsuites name="wiretest" tests="1" failures="1" errors="0"/);
 * assert.match(xml, /<testcase name="status is 200" classname="http\.wire\.yaml"/);
 * assert.match(xml, /at http\.wire\.yaml:9:21/);
 * ```
 */
export function junitReporter(write: (text: string) => void): Reporter {
  const steps = new StepLog();
  const suites = new Map<string, TestCase[]>();
  let startTime: string | undefined;
  let grants: readonly PluginGrant[] = [];
  let written = false;

  function flush(summary?: SummaryEvent): void {
    if (written) return;
    written = true;
    write(junitDocument(suites, startTime, summary, grants));
  }

  return {
    onEvent(event: RunEvent): void {
      switch (event.type) {
        case "run-start":
          startTime = event.time;
          grants = event.plugins ?? [];
          break;
        case "step-result":
          steps.add(event);
          break;
        case "fixture-end": {
          const testCase = { end: event, steps: steps.take(event.fixture) };
          const suite = suites.get(event.fixture.file);
          if (suite) suite.push(testCase);
          else suites.set(event.fixture.file, [testCase]);
          break;
        }
        case "summary":
          flush(event);
          break;
      }
    },
    close(): void {
      flush();
    },
  };
}

function junitDocument(
  suites: Map<string, TestCase[]>,
  startTime: string | undefined,
  summary: SummaryEvent | undefined,
  grants: readonly PluginGrant[],
): string {
  const timestamp = startTime === undefined ? "" : ` timestamp="${xmlAttr(startTime)}"`;
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0 };
  const body: string[] = [];
  for (const [file, cases] of suites) {
    const counts = countCases(cases);
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
    total.ms += counts.ms;
    body.push(
      `  <testsuite name="${xmlAttr(file)}"${countAttrs(counts)}${timestamp}>`,
      ...propertiesXml(grantsFor(grants, file)),
      ...cases.map(testCaseXml),
      "  </testsuite>",
    );
  }
  // The run's wall-clock time; fixtures that ran in parallel overlap.
  if (summary) total.ms = summary.durationMs;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="wiretest"${countAttrs(total)}${timestamp}>`,
    ...body,
    "</testsuites>",
    "",
  ].join("\n");
}

/** The third-party plugins a suite's fixture may use, with their manifest and grants. */
function propertiesXml(grants: readonly PluginGrant[]): string[] {
  if (grants.length === 0) return [];
  return [
    "    <properties>",
    ...grants.flatMap((g) => [
      `      <property name="wiretest.plugin.${xmlAttr(g.name)}.manifest" value="${
        xmlAttr(g.manifest)
      }"/>`,
      `      <property name="wiretest.plugin.${xmlAttr(g.name)}.grants" value="${
        xmlAttr(grantsText(g))
      }"/>`,
    ]),
    "    </properties>",
  ];
}

function countCases(cases: TestCase[]): Counts {
  const counts: Counts = { tests: cases.length, failures: 0, errors: 0, skipped: 0, ms: 0 };
  for (const { end } of cases) {
    if (end.status === "failed") counts.failures++;
    else if (end.status === "error" || end.status === "invalid") counts.errors++;
    else if (end.status === "skipped") counts.skipped++;
    counts.ms += end.durationMs;
  }
  return counts;
}

function countAttrs(counts: Counts): string {
  return ` tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}"` +
    ` skipped="${counts.skipped}" time="${seconds(counts.ms)}"`;
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function testCaseXml({ end, steps }: TestCase): string {
  const { file, name } = end.fixture;
  const open = `    <testcase name="${xmlAttr(name)}" classname="${xmlAttr(file)}" file="${
    xmlAttr(file)
  }" time="${seconds(end.durationMs)}"`;
  const children: string[] = [];
  const decided = finalAttempts(steps).filter((r) => r.status !== "passed");
  const detail = [
    ...decided.flatMap((r) => [stepHeading(r), ...stepDetailLines(r, "  ")]),
    ...end.problems.flatMap((p) => problemLines(p, "")),
  ].join("\n");

  switch (end.status) {
    case "failed": {
      const failing = decided.flatMap((r) => r.expectations.filter((e) => !e.pass));
      const first = failing[0]?.message ?? decided[0]?.error?.message ?? end.problems[0]?.message;
      const message = failing.length > 1
        ? `${failing.length} expectations failed; first: ${first}`
        : first ?? "fixture failed";
      children.push(element("failure", message, "expectation", detail));
      break;
    }
    case "error":
    case "invalid": {
      const message = decided.find((r) => r.error)?.error?.message ?? end.problems[0]?.message ??
        (end.status === "invalid" ? "fixture is invalid" : "fixture could not run");
      children.push(element("error", message, end.status, detail));
      break;
    }
    case "skipped": {
      const reason = end.problems[0]?.message;
      children.push(
        reason === undefined ? "      <skipped/>" : `      <skipped message="${xmlAttr(reason)}"/>`,
      );
      break;
    }
    case "passed":
      break;
  }
  if (steps.length > 0) {
    children.push(
      `      <system-out>${xmlText(steps.flatMap(stepOutLines).join("\n"))}</system-out>`,
    );
  }
  return children.length === 0
    ? `${open}/>`
    : [`${open}>`, ...children, "    </testcase>"].join("\n");
}

function element(tag: string, message: string, type: string, body: string): string {
  // The attribute is a one-line summary; the body has everything.
  const summary = messageLines(message)[0];
  return `      <${tag} message="${xmlAttr(summary)}" type="${xmlAttr(type)}">${
    xmlText(body)
  }</${tag}>`;
}

function stepHeading(result: StepResultEvent): string {
  const attempt = result.attempt > 1 ? `, attempt ${result.attempt}` : "";
  return `${stepLabel(result)} ${result.status}${attempt}:`;
}

function stepOutLines(result: StepResultEvent): string[] {
  const attempt = result.attempt > 1 ? `, attempt ${result.attempt}` : "";
  const retry = result.willRetry ? ", retrying" : "";
  const lines = [
    `${result.status} ${stepLabel(result)}${attempt} ${formatDuration(result.durationMs)}${retry}`,
  ];
  const metrics = Object.entries(result.outcome?.metrics ?? {});
  if (metrics.length > 0) {
    lines.push(`  metrics: ${metrics.map(([k, v]) => `${k}=${describeValue(v)}`).join(" ")}`);
  }
  return lines;
}
