import assert from "node:assert/strict";
import { TIMED_OUT, within } from "./within.ts";

const never = new Promise<never>(() => {});

/** Resolves with `value` after `ms`. */
const later = <T>(value: T, ms: number) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

Deno.test("within() at 0 ms gives TIMED_OUT unless the promise has settled already", async () => {
  assert.equal(await within(never, 0), TIMED_OUT);
  assert.equal(await within(Promise.resolve("ready"), 0), "ready");
});

Deno.test("within() at 1 ms gives TIMED_OUT and hands a late value to onLate", async () => {
  const late: string[] = [];
  assert.equal(await within(later("late", 30), 1, (v) => late.push(v)), TIMED_OUT);
  await later(null, 60);
  assert.deepEqual(late, ["late"]);
});

Deno.test("within() at 2^31 ms and Infinity waits for the value", async () => {
  assert.equal(await within(later("a", 100), 2 ** 31), "a");
  assert.equal(await within(later("b", 20), Infinity), "b");
});

Deno.test("within() passes a rejection through and ignores a late one", async () => {
  await assert.rejects(within(Promise.reject(new Error("no")), 1_000), { message: "no" });
  const failing = later(null, 30).then(() => Promise.reject(new Error("late")));
  assert.equal(await within(failing, 1), TIMED_OUT);
  await later(null, 60);
});
