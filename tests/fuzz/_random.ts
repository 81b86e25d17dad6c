// Seeded randomness for the fixture fuzz tests: every case is a pure function
// of (seed, index), so a failure names the two numbers that reproduce it.

import { Random } from "../_support/random.ts";

export { Random };

/**
 * The generator of case `index` under `seed`: a hash of both, so cases do
 * not depend on the ones before them and one can be replayed alone.
 */
export function caseRandom(seed: number, index: number): Random {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return new Random((h ^ (h >>> 16)) >>> 0);
}

/** An integer from the environment variable `name` (decimal or 0x hex), else `fallback`. */
export function envInteger(name: string, fallback: number): number {
  const text = Deno.env.get(name);
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Cannot use ${name}: "${text}" is not a whole number from 0`);
  }
  return value;
}
