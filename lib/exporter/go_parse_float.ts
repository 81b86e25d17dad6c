/**
 * Go's `strconv.ParseFloat(s, 64)`, which blackbox_exporter reads a scrape's
 * `X-Prometheus-Scrape-Timeout-Seconds` with: its grammar (Go's float
 * literals: `1_000`, `0x1.8p1`, `.5`, `inf`, `NaN`) and its errors' words.
 *
 * @module
 */
import { goQuote } from "./go_quote.ts";

// Go's decimal and hexadecimal float literals, underscores placed apart.
const DECIMAL = /^[-+]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9][0-9_]*)?$/;
const HEX = /^[-+]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][-+]?[0-9][0-9_]*$/;

/**
 * `text` as Go's `strconv.ParseFloat(text, 64)` reads it.
 *
 * @param text The text, whole (no white space).
 * @returns The number: NaN for `nan`, ±Infinity for `inf`/`infinity` (any
 * case), 0 for a value too small to be one.
 * @throws {SyntaxError} `strconv.ParseFloat: parsing "<text>": invalid syntax`.
 * @throws {RangeError} `strconv.ParseFloat: parsing "<text>": value out of
 * range`, for a finite literal too large for a float64 (`1e400`).
 */
export function goParseFloat(text: string): number {
  const fail = (why: string) => `strconv.ParseFloat: parsing ${goQuote(text, 200)}: ${why}`;
  const special = /^(?:([-+]?)(inf|infinity)|nan)$/i.exec(text);
  if (special) {
    if (special[2] === undefined) return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  const hex = HEX.test(text);
  if ((!hex && !DECIMAL.test(text)) || !underscoresApart(text)) {
    throw new SyntaxError(fail("invalid syntax"));
  }
  const plain = text.replaceAll("_", "");
  const value = hex ? hexValue(plain) : Number(plain);
  if (!Number.isFinite(value)) throw new RangeError(fail("value out of range"));
  return value;
}

// Go's underscoreOK: an underscore only between digits (a base prefix
// counts as one), never first or last; and a mantissa has a digit.
function underscoresApart(text: string): boolean {
  let s = text.replace(/^[-+]/, "");
  const hex = /^0[xX]/.test(s);
  let saw = hex ? "0" : "^";
  if (hex) s = s.slice(2);
  if (!/[0-9a-fA-F]/.test(hex ? s.split(/[pP]/)[0] : s.split(/[eE]/)[0])) return false;
  for (const c of s) {
    if (/[0-9]/.test(c) || (hex && /[a-fA-F]/.test(c))) saw = "0";
    else if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
    } else {
      if (saw === "_") return false;
      saw = "!";
    }
  }
  return saw !== "_";
}

// "0x1.8p1": the hex digits as an integer, times 2 to the exponent less 4
// per digit after the point; scaled in steps a float64 can hold, so neither
// a huge mantissa nor a tiny factor turns the product to 0 or Infinity early.
function hexValue(plain: string): number {
  const m = /^([-+]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([-+]?\d+)$/.exec(plain)!;
  const digits = `${m[2]}${m[3]}`.replace(/^0+(?=.)/, "");
  // Beyond 200 hex digits (800 bits) the rest cannot change a float64.
  const kept = digits.slice(0, 200);
  let value = Number(BigInt(`0x${kept}`));
  let shift = Math.max(-1e5, Math.min(1e5, Number(m[4]))) - 4 * m[3].length +
    4 * (digits.length - kept.length);
  for (; shift > 1000 && Number.isFinite(value); shift -= 1000) value *= 2 ** 1000;
  for (; shift < -1000 && value !== 0; shift += 1000) value *= 2 ** -1000;
  value *= 2 ** shift;
  return m[1] === "-" ? -value : value;
}
