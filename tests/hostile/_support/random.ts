// A seeded random source for the fuzz tests, so every run generates the
// same cases and a failure names the seed and case that reproduce it.

export { Random } from "../../_support/random.ts";

/** The seed a fuzz test uses: WIRETEST_FUZZ_SEED when set (to explore), else `fixed`. */
export function fuzzSeed(fixed: number): number {
  const given = Deno.env.get("WIRETEST_FUZZ_SEED");
  return given === undefined ? fixed : Number(given);
}
