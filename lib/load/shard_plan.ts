/**
 * Splits a load plan across `n` machines (`--shard i/n`) deterministically:
 * every shard computes its own part from the same plan, no coordinator.
 *
 * @module
 */
import type { LoadPlanInput } from "./load_plan.ts";

/**
 * Shard `index` (1-based) of `count`'s part of a plan: VUs, iterations and
 * VU stage targets are whole numbers split as evenly as possible (the first
 * shards take the remainder), rates and rate targets are divided by
 * `count`, so the shards' parts add up to the plan.
 *
 * @param plan The whole plan, as written.
 * @param index This shard, from 1.
 * @param count Number of shards.
 * @returns This shard's plan.
 * @throws {RangeError} When the shard is out of range or would get no VUs.
 *
 * @example 10 VUs over 4 shards
 * ```ts
 * import { shardPlan } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * const parts = [1, 2, 3, 4].map((i) => shardPlan({ vus: 10, duration: "5s" }, i, 4).vus);
 * assert.deepEqual(parts, [3, 3, 2, 2]);
 * assert.equal(shardPlan({ rate: 1000, duration: "5s" }, 2, 4).rate, 250);
 * ```
 */
export function shardPlan(plan: LoadPlanInput, index: number, count: number): LoadPlanInput {
  if (
    !Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count
  ) {
    throw new RangeError(
      `Cannot shard load: "${index}/${count}" is not a shard i/n with 1 <= i <= n`,
    );
  }
  const whole = (n: number) => Math.floor(n / count) + (index - 1 < n % count ? 1 : 0);
  const out: LoadPlanInput = { ...plan };
  const open = plan.rate !== undefined;
  if (plan.vus !== undefined) out.vus = whole(plan.vus);
  if (plan.iterations !== undefined) out.iterations = whole(plan.iterations);
  if (plan.rate !== undefined) out.rate = plan.rate / count;
  if (plan.maxVus !== undefined) out.maxVus = Math.max(1, Math.ceil(plan.maxVus / count));
  if (plan.preAllocatedVus !== undefined) {
    out.preAllocatedVus = Math.min(out.maxVus ?? Infinity, Math.ceil(plan.preAllocatedVus / count));
  }
  if (plan.stages !== undefined) {
    out.stages = plan.stages.map((s) => ({
      ...s,
      target: open ? s.target / count : whole(s.target),
    }));
  }
  if (!open) {
    const top = Math.max(out.vus ?? 0, ...(out.stages ?? []).map((s) => s.target));
    if (top === 0) {
      throw new RangeError(
        `Cannot shard load: shard ${index}/${count} gets no VUs (the plan has fewer VUs than shards)`,
      );
    }
  }
  return out;
}

/**
 * Parses `--shard i/n`.
 *
 * @param text `"2/4"`.
 * @returns `[index, count]`.
 * @throws {SyntaxError} When it is not `i/n`.
 * @throws {RangeError} When `i` is not within `1..n`.
 *
 * @example
 * ```ts
 * import { parseShard } from "@wiretest/wiretest/load";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseShard("2/4"), [2, 4]);
 * assert.throws(() => parseShard("5/4"), RangeError);
 * ```
 */
export function parseShard(text: string): [number, number] {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  if (!m) throw new SyntaxError(`Cannot parse shard "${text}": write i/n, such as "1/4"`);
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || index < 1 || index > count) {
    throw new RangeError(`Cannot use shard "${text}": it needs 1 <= i <= n`);
  }
  return [index, count];
}
