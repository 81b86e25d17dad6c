import assert from "node:assert/strict";
import { MAX_TIMER_MS, startTimer } from "./timer.ts";

/** Resolves after `ms` on a plain timer: long enough for a wrongly armed timer to fire. */
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("startTimer() fires once after 0 ms and after 1 ms", async () => {
  const fired: number[] = [];
  using _zero = startTimer(0, () => fired.push(0));
  using _one = startTimer(1, () => fired.push(1));
  await settle(50);
  assert.deepEqual(fired.sort(), [0, 1]);
});

Deno.test("startTimer() does not fire early for 2^31 ms (setTimeout would after 1 ms)", async () => {
  let fired = 0;
  const timer = startTimer(2 ** 31, () => fired++);
  const plain = setTimeout(() => {}, 2 ** 31);
  await settle(100);
  clearTimeout(plain);
  timer.clear();
  assert.equal(fired, 0);
});

Deno.test("startTimer() with Infinity never fires and holds no timer", async () => {
  let fired = 0;
  // No clear(): the op sanitizer fails this test if a timer were left pending.
  startTimer(Infinity, () => fired++);
  await settle(20);
  assert.equal(fired, 0);
});

Deno.test("startTimer() re-arms until the whole delay has passed when it needs several timers", async () => {
  const start = performance.now();
  let firedAt = -1;
  let fired = 0;
  const done = Promise.withResolvers<void>();
  // Steps of 10 ms stand for the 2^31 - 1 ms limit.
  using _timer = startTimer(45, () => {
    fired++;
    firedAt = performance.now();
    done.resolve();
  }, 10);
  await done.promise;
  await settle(30);
  assert.equal(fired, 1);
  assert.ok(firedAt - start >= 45, `fired after ${firedAt - start} ms`);
});

Deno.test("startTimer() does not fire once cleared", async () => {
  let fired = 0;
  const timer = startTimer(5, () => fired++);
  timer.clear();
  timer.clear();
  await settle(30);
  assert.equal(fired, 0);
});

Deno.test("startTimer() refuses a negative or NaN delay with RangeError", () => {
  assert.throws(() => startTimer(-1, () => {}), {
    name: "RangeError",
    message: 'Cannot use timeout: "-1" is not a non-negative number',
  });
  assert.throws(() => startTimer(NaN, () => {}), RangeError);
  assert.throws(() => startTimer(-Infinity, () => {}), RangeError);
});

Deno.test("MAX_TIMER_MS is the longest delay setTimeout honours", () => {
  assert.equal(MAX_TIMER_MS, 2 ** 31 - 1);
});
