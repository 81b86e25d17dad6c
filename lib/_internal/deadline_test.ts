import assert from "node:assert/strict";
import { TimeoutError } from "../errors.ts";
import { deadlineOf, limitSignal, remainingMs, withDeadline } from "./deadline.ts";

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const timeout = (ms: number) => new DOMException(`${ms} ms passed`, "TimeoutError");
const info = { operation: "read", address: "127.0.0.1:9" } as const;

/** Resolves with `value` after `ms`; the timer is cleared by the caller's signal. */
function later<T>(value: T, ms: number, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => resolve(value), ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

Deno.test("limitSignal() at 0 ms is aborted before it returns, with the timeout's reason", () => {
  using limit = limitSignal({ timeout: 0 }, timeout);
  assert.equal(limit.signal.aborted, true);
  assert.equal(limit.timedOut, true);
  assert.equal(limit.ms, 0);
  assert.equal((limit.signal.reason as DOMException).message, "0 ms passed");
});

Deno.test("limitSignal() with a deadline already past is aborted before it returns", () => {
  const deadline = Date.now() - 1000;
  using limit = limitSignal({ deadline }, timeout);
  assert.equal(limit.signal.aborted, true);
  assert.equal(limit.timedOut, true);
  assert.equal(limit.deadline, deadline);
});

Deno.test("limitSignal() at 1 ms aborts with the timeout's reason", async () => {
  using limit = limitSignal({ timeout: 1 }, timeout);
  assert.equal(limit.signal.aborted, false);
  await settle(50);
  assert.equal(limit.signal.aborted, true);
  assert.equal(limit.timedOut, true);
  assert.equal((limit.signal.reason as DOMException).name, "TimeoutError");
});

Deno.test("limitSignal() at 2^31 ms does not abort early (setTimeout would after 1 ms)", async () => {
  const before = Date.now();
  using limit = limitSignal({ timeout: 2 ** 31 }, timeout);
  await settle(100);
  assert.equal(limit.signal.aborted, false);
  assert.equal(limit.ms, 2 ** 31);
  assert.ok(limit.deadline! >= before + 2 ** 31);
});

Deno.test("limitSignal() with a deadline 700 hours away does not abort early", async () => {
  using limit = limitSignal({ deadline: Date.now() + 700 * 3_600_000 }, timeout);
  await settle(100);
  assert.equal(limit.signal.aborted, false);
});

Deno.test("limitSignal() with Infinity or nothing has no deadline and never times out", async () => {
  for (const given of [{ timeout: Infinity }, { deadline: Infinity }, {}]) {
    using limit = limitSignal(given, timeout);
    assert.equal(limit.deadline, undefined);
    assert.equal(limit.ms, undefined);
    await settle(10);
    assert.equal(limit.signal.aborted, false);
  }
});

Deno.test("limitSignal() takes the earlier of timeout and deadline", () => {
  const now = Date.now();
  using byDeadline = limitSignal({ timeout: 60_000, deadline: now + 1_000 }, timeout);
  assert.equal(byDeadline.deadline, now + 1_000);
  assert.ok(byDeadline.ms! <= 1_000);
  using byTimeout = limitSignal({ timeout: 500, deadline: now + 60_000 }, timeout);
  assert.ok(byTimeout.deadline! <= Date.now() + 500);
  assert.equal(byTimeout.ms, 500);
});

Deno.test("limitSignal() follows its signal with the signal's reason, not as a timeout", async () => {
  const outer = new AbortController();
  using limit = limitSignal({ signal: outer.signal, timeout: 2 ** 31 }, timeout);
  outer.abort("stop");
  assert.equal(limit.signal.reason, "stop");
  assert.equal(limit.timedOut, false);
  using early = limitSignal({ signal: AbortSignal.abort("gone"), timeout: 0 }, timeout);
  assert.equal(early.signal.reason, "gone");
  assert.equal(early.timedOut, false);
  await settle(0);
});

Deno.test("limitSignal() stops following its signal once disposed", () => {
  const outer = new AbortController();
  const limit = limitSignal({ signal: outer.signal, timeout: 1_000 }, timeout);
  limit[Symbol.dispose]();
  outer.abort("late");
  assert.equal(limit.signal.aborted, false);
});

Deno.test("limitSignal() refuses a negative or NaN timeout and a NaN deadline with RangeError", () => {
  assert.throws(() => limitSignal({ timeout: -1 }, timeout), {
    name: "RangeError",
    message: 'Cannot use timeout: "-1" is not a non-negative number',
  });
  assert.throws(() => limitSignal({ timeout: NaN }, timeout), RangeError);
  assert.throws(() => limitSignal({ deadline: NaN }, timeout), {
    name: "RangeError",
    message: 'Cannot use deadline: "NaN" is not a time in milliseconds',
  });
});

Deno.test("deadlineOf() treats a deadline past the last Date as none", () => {
  assert.equal(deadlineOf({ timeout: Number.MAX_VALUE }), undefined);
  assert.equal(deadlineOf({ deadline: 9e15 }), undefined);
  assert.equal(deadlineOf({ deadline: 8e15 }), 8e15);
  assert.equal(deadlineOf(undefined), undefined);
});

Deno.test("remainingMs() keeps a timeout exact and counts a deadline down", () => {
  assert.equal(remainingMs({ timeout: 2 ** 31 }), 2 ** 31);
  assert.equal(remainingMs({ timeout: Infinity }), undefined);
  assert.equal(remainingMs({ deadline: Date.now() - 5 }), 0);
  assert.ok(remainingMs({ deadline: Date.now() + 1000 })! <= 1000);
});

Deno.test("withDeadline() at 0 ms fails with a TimeoutError and abandons what it started", async () => {
  let abandoned = 0;
  let sawAborted: boolean | undefined;
  const error = await withDeadline({ timeout: 0 }, info, (signal) => {
    sawAborted = signal?.aborted;
    return later("late", 5, signal);
  }, () => abandoned++).catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.timeoutMs, 0);
  assert.equal(sawAborted, true);
  assert.equal(abandoned, 1);
});

Deno.test("withDeadline() at 1 ms fails with a TimeoutError naming operation, address and ms", async () => {
  const error = await withDeadline({ timeout: 1 }, info, (signal) => later("late", 500, signal))
    .catch((e) => e);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.operation, "read");
  assert.equal(error.address, "127.0.0.1:9");
  assert.equal(error.timeoutMs, 1);
});

Deno.test("withDeadline() at 2^31 ms and Infinity waits for the result", async () => {
  assert.equal(await withDeadline({ timeout: 2 ** 31 }, info, (s) => later("a", 100, s)), "a");
  assert.equal(await withDeadline({ timeout: Infinity }, info, (s) => later("b", 20, s)), "b");
  const deadline = Date.now() + 2 ** 31;
  assert.equal(await withDeadline({ deadline }, info, (s) => later("c", 100, s)), "c");
});

Deno.test("withDeadline() rejects with the signal's own reason when it aborts", async () => {
  const outer = new AbortController();
  const running = withDeadline(
    { signal: outer.signal, timeout: 2 ** 31 },
    info,
    (s) => later("x", 10_000, s),
  );
  outer.abort(new Error("mine"));
  await assert.rejects(running, { message: "mine" });
  await assert.rejects(
    withDeadline({ signal: AbortSignal.abort("pre") }, info, () => Promise.resolve(1)),
    (e) => e === "pre",
  );
});

Deno.test("withDeadline() refuses a negative timeout before starting anything", () => {
  let started = false;
  assert.throws(
    () =>
      withDeadline({ timeout: -1 }, info, () => {
        started = true;
        return Promise.resolve();
      }),
    RangeError,
  );
  assert.equal(started, false);
});
