// What every fuzz case must satisfy: the parser and the validator either
// accept the fixture (and it is well formed) or reject it with errors that
// are each a FixtureError with a file, a line and a column inside the text.
import assert from "node:assert/strict";
import { FixtureError, FixtureErrors } from "../../lib/fixture/fixture_error.ts";
import { interpolate } from "../../lib/fixture/interpolate.ts";
import { parseFixture } from "../../lib/fixture/parse_fixture.ts";
import type { Fixture, InterpolationScope, SourceLocation } from "../../lib/fixture/types.ts";
import type { Outcome } from "../../lib/plugin/types.ts";
import type { Registry } from "../../lib/plugin/registry.ts";
import type { LocatedMessage } from "../../lib/runner/events.ts";
import { prepareFixture, RUNNER_ENV } from "../../lib/runner/prepare_fixture.ts";
import type { FuzzCase } from "./_cases.ts";

/** How a case ended. */
export interface Verdict {
  /** `parseFixture()` accepted it. */
  parsed: boolean;
  /** `prepareFixture()` found it ready to run. */
  ready: boolean;
}

// Messages of errors from inside our code that a catch-all turned into a
// "problem": none of them may ever reach a user as a fixture problem.
const CRASH =
  /Maximum call stack|is not a function|Cannot read propert|is not iterable|Cannot convert|is not a constructor|Invalid array length|Invalid string length|out of memory/i;

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? String(error)) : String(error);
}

let lastRows: { text: string; rows: string[] } | undefined;

/** The lines of `text`, split once for all the problems of a case. */
function rowsOf(text: string): string[] {
  if (lastRows?.text !== text) lastRows = { text, rows: text.split("\n") };
  return lastRows.rows;
}

/** Asserts one located problem: the file, a line and column inside `text`, the message. */
function assertProblem(
  problem: LocatedMessage,
  text: string,
  file: string,
  actions: readonly string[],
): void {
  const rows = rowsOf(text);
  const where = `${problem.line}:${problem.column} ${
    JSON.stringify(problem.message.slice(0, 300))
  }`;
  assert.equal(problem.file, file, where);
  assert.equal(typeof problem.path, "string", where);
  assert.ok(
    Number.isInteger(problem.line) && problem.line >= 1 && problem.line <= rows.length + 1,
    `line out of the text (${rows.length} lines): ${where}`,
  );
  const width = (rows[problem.line - 1] ?? "").length;
  assert.ok(
    Number.isInteger(problem.column) && problem.column >= 1 && problem.column <= width + 1,
    `column out of its line (${width} characters): ${where}`,
  );
  assert.ok(
    actions.some((action) =>
      problem.message.startsWith(
        `Cannot ${action} fixture "${file}:${problem.line}:${problem.column}": `,
      )
    ),
    `message not located: ${where}`,
  );
  assert.doesNotMatch(problem.message, CRASH, `a crash reported as a problem: ${where}`);
}

/** Asserts that `error` is a FixtureErrors of located FixtureErrors; returns them. */
export function assertLocated(
  error: unknown,
  text: string,
  file: string,
  actions: readonly string[],
): FixtureError[] {
  assert.ok(error instanceof FixtureErrors, `threw something else: ${describe(error)}`);
  assert.ok(error.errors.length > 0, "no errors in FixtureErrors");
  for (const e of error.errors) {
    assert.ok(e instanceof FixtureError, `not a FixtureError: ${describe(e)}`);
    assertProblem(e, text, file, actions);
  }
  return error.errors;
}

/** Asserts that a location a fixture gives is inside its text. */
function assertInside(at: SourceLocation, text: string, file: string): void {
  const message = `Cannot load fixture "${file}:${at.line}:${at.column}": `;
  assertProblem({ ...at, message }, text, file, ["load"]);
}

/** Asserts what a parsed fixture promises its users. */
function assertWellFormed(fixture: Fixture, text: string, file: string): void {
  const positive = (value: number | undefined, what: string) =>
    assert.ok(value === undefined || (Number.isFinite(value) && value > 0), `${what}: ${value}`);
  assert.ok(typeof fixture.name === "string" && fixture.name !== "", "name");
  assert.ok(fixture.steps.length > 0, "steps");
  positive(fixture.timeout, "timeout");
  for (const step of fixture.steps) {
    assert.equal(typeof step.plugin, "string");
    positive(step.timeout, "step timeout");
    assert.ok(Number.isInteger(step.retries) && step.retries >= 0 && step.retries <= 100);
    assert.ok(Number.isFinite(step.retryDelay) && step.retryDelay >= 0, "retryDelay");
    assertInside(step.location, text, file);
    for (const expectation of step.expect) assertInside(expectation.location, text, file);
  }
}

/** Uses a parsed fixture as a runner would, to reach run-time paths too. */
function exercise(fixture: Fixture, text: string, file: string): void {
  const scope: InterpolationScope = {
    services: Object.fromEntries(
      fixture.services.map((
        s,
        i,
      ) => [s.name, { transport: "tcp", hostname: "127.0.0.1", port: 4000 + i }]),
    ),
    steps: {},
    env: () => "value",
    allowEnv: [...fixture.env, ...RUNNER_ENV],
  };
  const steps: Record<string, Outcome> = {};
  for (const step of fixture.steps) {
    const outcome: Outcome = {
      ok: true,
      metrics: { count: 1, rtt_p99_ms: 5 },
      facts: { a: { b: "x" } },
    };
    const run = [
      () => interpolate(step.with, scope, fixture.source.locator([...step.path, "with"])),
      ...step.expect.map((e) => () => e.check(outcome, { ...scope, steps })),
    ];
    for (const part of run) {
      try {
        part();
      } catch (error) {
        assertLocated(error, text, file, ["run"]);
      }
    }
    if (step.name !== undefined) steps[step.name] = outcome;
  }
}

/**
 * Runs one case through `parseFixture()` and `prepareFixture()` (against
 * `registry`, no service started) and asserts the outcome.
 *
 * @param kase The case.
 * @param file Where to write it; messages name this path.
 * @param registry The plugins.
 * @returns Whether it parsed and whether it is ready to run.
 */
export async function checkCase(
  kase: FuzzCase,
  file: string,
  registry: Registry,
): Promise<Verdict> {
  await Deno.writeTextFile(file, kase.text);
  const options = { allowEnv: RUNNER_ENV };
  let fixture: Fixture | undefined;
  let errors: FixtureError[] | undefined;
  try {
    fixture = parseFixture(kase.text, file, options);
  } catch (error) {
    errors = assertLocated(error, kase.text, file, ["load"]);
  }
  if (fixture) {
    assertWellFormed(fixture, kase.text, file);
    exercise(fixture, kase.text, file);
  }
  let prepared;
  try {
    // The cases go up to a few MB to test the parser, not the file size cap
    // (tests/hostile/untrusted_fixture_test.ts tests that): lift the cap.
    prepared = await prepareFixture(file, { registry, maxFixtureBytes: 64 * 1024 * 1024 });
  } catch (error) {
    assert.fail(`prepareFixture() threw: ${describe(error)}`);
  }
  // What the file holds once read back (a leading BOM is dropped, lone
  // surrogates become U+FFFD): only then must both see the same problems.
  const read = await Deno.readTextFile(file);
  if (prepared.status === "invalid") {
    for (const problem of prepared.problems) assertProblem(problem, read, file, ["load"]);
    for (const problem of prepared.problems) {
      assert.doesNotMatch(
        problem.message,
        /names plugin "(?:echo|http-probe|udp-ping|file-send)", which cannot be used/,
        "a built-in plugin failed to check its params",
      );
    }
  }
  if (read === kase.text) {
    if (errors) {
      assert.equal(
        prepared.status,
        "invalid",
        "prepareFixture() accepted what parseFixture() refused",
      );
      // Every problem parseFixture() found, in order; besides them only
      // problems of plugins and params, which prepareFixture() checks in the same pass.
      const problems = prepared.status === "invalid" ? prepared.problems : [];
      assert.deepEqual(
        problems.map((p) => p.message).filter((m) => errors.some((e) => e.message === m)),
        errors.map((e) => e.message),
        "prepareFixture() lost a problem parseFixture() found",
      );
      for (const extra of problems.filter((p) => !errors.some((e) => e.message === p.message))) {
        assert.match(
          extra.path,
          /^(?:plugins\b|services\b.*(?:\.with\b|\.plugin$)|steps\[\d+\]\.(?:with\b|plugin$)|steps\[\d+\]\.expect(?:\.|\[")(?:metrics|facts)\b)/,
          `prepareFixture() added a problem that is not about plugins, params or declared keys: ${extra.message}`,
        );
      }
    } else if (prepared.status === "invalid") {
      // Parsing passed, so every problem is about plugins and params.
      assert.ok(prepared.problems.every((p) => !/invalid (?:YAML|JSON)/.test(p.message)));
    } else {
      assert.equal(prepared.name, fixture?.name);
    }
  }
  return { parsed: fixture !== undefined, ready: prepared.status === "ready" };
}
