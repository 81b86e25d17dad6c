// Durations as fixtures and load plans write them: `"500us"`, `"20ms"`,
// `"1.5s"`, `"1m30s"`, or a number of milliseconds. Shared here so that
// lib/load and lib/fixture both parse them without importing each other;
// lib/fixture/duration.ts is the public face.

const UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * The text form of a duration, for schemas: one or more parts, each a
 * decimal number and a unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), spaces allowed.
 */
export const DURATION_PATTERN: RegExp =
  /^\s*(?:(?:\d+(?:\.\d*)?|\.\d+)\s*(?:ns|us|µs|ms|s|m|h)\s*)+$/;

const PART = /(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|ms|s|m|h)/g;

/**
 * Converts a duration to milliseconds. A number is taken as milliseconds; a
 * string needs units (`"30"` alone could mean seconds or milliseconds, so it
 * is refused). Parts add up: `"1m30s"` is 90 000. The result is rounded to
 * the nanosecond.
 *
 * @param value `"20ms"`, `"1.5s"`, `"2m"`, `"500us"`, `"1h 30m"`, or milliseconds.
 * @returns Milliseconds (fractional below one millisecond).
 * @throws {SyntaxError} When the text is not a duration.
 * @throws {RangeError} When it is negative or not finite.
 *
 * @example Units convert to milliseconds
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDuration("1.5s"), 1500);
 * assert.equal(parseDuration("500us"), 0.5);
 * assert.equal(parseDuration("1m30s"), 90_000);
 * assert.equal(parseDuration(250), 250);
 * assert.throws(() => parseDuration("30"), SyntaxError);
 * ```
 */
export function parseDuration(value: string | number): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(
        `Cannot use duration ${value}: it must be a finite, non-negative number of milliseconds`,
      );
    }
    return value;
  }
  if (/^\s*-/.test(value) && DURATION_PATTERN.test(value.replace("-", ""))) {
    throw new RangeError(`Cannot use duration ${JSON.stringify(value)}: it must not be negative`);
  }
  if (!DURATION_PATTERN.test(value)) {
    const hint = /^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)\s*$/.test(value)
      ? "add a unit (ns, us, ms, s, m, h)"
      : 'write a number and a unit (ns, us, ms, s, m, h), such as "500ms" or "1.5s"';
    throw new SyntaxError(`Cannot parse duration ${JSON.stringify(value)}: ${hint}`);
  }
  let total = 0;
  for (const [, amount, unit] of value.matchAll(PART)) total += Number(amount) * UNITS[unit];
  if (!Number.isFinite(total)) {
    throw new RangeError(`Cannot use duration ${JSON.stringify(value)}: it is too large`);
  }
  return Math.round(total * 1e6) / 1e6;
}
