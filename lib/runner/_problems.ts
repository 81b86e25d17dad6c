/**
 * Located problems for events, from what loading or running a fixture threw.
 *
 * @module
 */
import { FixtureError, FixtureErrors } from "../fixture/fixture_error.ts";
import type { LocatedMessage } from "./events.ts";

/**
 * Turns what loading or running threw into located problems: each
 * `FixtureError` as it is, anything else at the start of the file.
 *
 * @param error What was thrown.
 * @param file The fixture file.
 * @returns The problems.
 */
export function problemsOf(error: unknown, file: string): LocatedMessage[] {
  if (error instanceof FixtureErrors) return error.errors.map(toProblem);
  if (error instanceof FixtureError) return [toProblem(error)];
  const at = { file, line: 1, column: 1, path: "" };
  // loadFixture names the file already; the located message names it again.
  const detail = message(error).replace(/^Cannot load fixture "[^"]*": /, "");
  return [toProblem(new FixtureError(at, lowerFirst(detail), { cause: error }))];
}

/**
 * A located fixture error as an event's problem.
 *
 * @param error The error.
 * @returns The problem.
 */
export function toProblem(error: FixtureError): LocatedMessage {
  return {
    file: error.file,
    line: error.line,
    column: error.column,
    path: error.path,
    message: error.message,
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
