/**
 * Sharding: splitting a run's fixtures over several machines (`--shard i/n`),
 * deterministically, so CI matrices or Kubernetes Indexed Jobs can fan out.
 *
 * @module
 */

/** One part of a split run: part `index` (from 1) of `count`. */
export interface Shard {
  /** Which part, from 1 to `count`. */
  readonly index: number;
  /** How many parts. */
  readonly count: number;
}

const SHARD = /^\s*(\d+)\s*\/\s*(\d+)\s*$/;

/**
 * Parses `i/n` (`2/4` is the second of four parts).
 *
 * @param text The flag's value.
 * @returns The shard.
 * @throws {SyntaxError} When the text is not `i/n`.
 * @throws {RangeError} When `n` is 0 or `i` is not from 1 to `n`.
 *
 * @example Reading a shard flag
 * ```ts
 * import { parseShard } from "@wiretest/wiretest/runner";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseShard("2/4"), { index: 2, count: 4 });
 * assert.throws(() => parseShard("5/4"), RangeError);
 * assert.throws(() => parseShard("half"), SyntaxError);
 * ```
 */
export function parseShard(text: string): Shard {
  const match = SHARD.exec(text);
  if (!match) {
    throw new SyntaxError(
      `Cannot parse shard "${text}": write "i/n", e.g. "2/4" for the second of four parts`,
    );
  }
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`Cannot use shard "${text}": the number of parts must be at least 1`);
  }
  if (index < 1 || index > count) {
    throw new RangeError(`Cannot use shard "${text}": the part must be from 1 to ${count}`);
  }
  return { index, count };
}

/**
 * Keeps the items of one shard. Items are taken in the order given (the
 * runner gives fixture paths sorted), and item `k` (from 0) belongs to part
 * `(k mod count) + 1`: parts differ in size by at most one, every item is in
 * exactly one part, and the same paths always split the same way.
 *
 * @param items The items, in a deterministic order.
 * @param shard Which part to keep.
 * @returns The items of that part, in order.
 *
 * @example Three parts of seven fixtures
 * ```ts
 * import { selectShard } from "@wiretest/wiretest/runner";
 * import assert from "node:assert/strict";
 *
 * const files = ["a", "b", "c", "d", "e", "f", "g"];
 * assert.deepEqual(selectShard(files, { index: 1, count: 3 }), ["a", "d", "g"]);
 * assert.deepEqual(selectShard(files, { index: 2, count: 3 }), ["b", "e"]);
 * assert.deepEqual(selectShard(files, { index: 3, count: 3 }), ["c", "f"]);
 * ```
 */
export function selectShard<T>(items: readonly T[], shard: Shard): T[] {
  return items.filter((_, k) => k % shard.count === shard.index - 1);
}
