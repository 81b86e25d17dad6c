/**
 * Numbers as outputs write them (JSON, reports, Prometheus expositions):
 * rounded to 9 decimal places, keeping at least 6 significant digits.
 *
 * Durations are differences of `performance.now()` readings, so they carry
 * the binary error of the readings (`0.002579999999966276` for 2.58 µs in
 * milliseconds): about 1e-13 ms a second into a process, 2e-9 ms after three
 * hours. The clocks tick in nanoseconds, so 9 decimal places keep every digit
 * they measure, whether a value is in milliseconds (1 ps) or seconds (1 ns),
 * and drop the noise below. Small values are not rounded to nothing: 1e-7
 * stays 1e-7, 1.23456789e-12 is 1.23457e-12. Integers (counts, bytes) and
 * values that need all 17 digits are written as they are, and the rounding
 * keeps order (a counter stays monotonic).
 *
 * Only outputs round: the values a run computes, judges and hands to library
 * callers are never changed.
 *
 * @module
 */

/** Decimal places every number keeps. */
export const FLOAT_DECIMALS = 9;
/** Significant digits a number keeps however small it is. */
export const FLOAT_SIGNIFICANT_DIGITS = 6;

/**
 * `value` rounded for output: to {@linkcode FLOAT_DECIMALS} decimal places,
 * with at least {@linkcode FLOAT_SIGNIFICANT_DIGITS} significant digits.
 * Integers, NaN and infinities are returned as they are.
 */
export function roundFloat(value: number): number {
  if (Number.isInteger(value) || !Number.isFinite(value)) return value;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  // Digits from 10^magnitude down to 10^-9, or 6 of them when that is more.
  const digits = Math.max(FLOAT_SIGNIFICANT_DIGITS, magnitude + 1 + FLOAT_DECIMALS);
  // 17 significant digits round-trip every double exactly.
  return digits >= 17 ? value : Number(value.toPrecision(digits));
}

/**
 * A judged number as a failure line shows it: rounded, and exactly too when
 * the rounding misleads (`0.5 (exactly 0.5000000001)` for `<= 0.5`).
 * `misleads` is the judge's word: whether the rounded value would be judged
 * otherwise than the exact one (a bound in other units, `<= 1s` for a value
 * in ms, is invisible in the text). Without it, the rounded text appearing
 * in `expected` is taken as misleading.
 */
export function judgedNumberText(value: number, expected: string, misleads?: boolean): string {
  const rounded = String(roundFloat(value));
  return (misleads ?? readsAsBound(value, expected)) ? `${rounded} (exactly ${value})` : rounded;
}

/**
 * A judged number as data shows it (TAP's YAML): rounded, or exact where
 * the rounding misleads (see {@linkcode judgedNumberText}).
 */
export function judgedNumber(value: number, expected: string, misleads?: boolean): number {
  return (misleads ?? readsAsBound(value, expected)) ? value : roundFloat(value);
}

/**
 * Whether `judge` (an expectation's test) judges `value` as outputs write it
 * (its numbers rounded, inside lists and objects too) otherwise than `value`
 * itself: its output must then show the exact value too.
 */
export function roundingMisleads(value: unknown, judge: (value: unknown) => boolean): boolean {
  const rounded = roundedValue(value);
  return rounded !== value && judge(rounded) !== judge(value);
}

// `value` with its numbers rounded; `value` itself when none changes.
function roundedValue(value: unknown): unknown {
  if (typeof value === "number") return roundFloat(value);
  if (typeof value !== "object" || value === null) return value;
  try {
    const rounded = stringifyRounded(value);
    return rounded === JSON.stringify(value) ? value : JSON.parse(rounded);
  } catch {
    return value; // not JSON (a cycle, a bigint): outputs do not write it rounded either
  }
}

function readsAsBound(value: number, expected: string): boolean {
  const rounded = roundFloat(value);
  return rounded !== value && expected.includes(String(rounded));
}

/**
 * `JSON.stringify` with every number rounded by {@linkcode roundFloat}
 * (and NaN and infinities written as `null`, as JSON has no word for them),
 * except an expectation's `actual` marked `roundingMisleads`: exact, with
 * every number inside it.
 */
export function stringifyRounded(value: unknown, indent?: number): string {
  // Lists and objects written exactly; the replacer sees a holder before its children.
  const exact = new WeakSet<object>();
  // A function, not an arrow: `this` is the object that holds `key`.
  function roundNumbers(this: unknown, key: string, value: unknown): unknown {
    const holder = this as { roundingMisleads?: unknown };
    const keep = exact.has(holder) || (key === "actual" && holder.roundingMisleads === true);
    if (keep && typeof value === "object" && value !== null) exact.add(value);
    if (typeof value !== "number") return value;
    if (!Number.isFinite(value)) return null;
    return keep ? value : roundFloat(value);
  }
  return JSON.stringify(value, roundNumbers, indent);
}
