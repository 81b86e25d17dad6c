import assert from "node:assert/strict";
import { pause } from "./pause.ts";

const TOO_LATE = Symbol("too late");

/** `promise`'s value, or TOO_LATE when it takes over `ms`. */
async function before<T>(promise: Promise<T>, ms: number): Promise<T | typeof TOO_LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof TOO_LATE>((r) => timer = setTimeout(() => r(TOO_LATE), ms));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("pause() waits about its delay at 0 and 1 ms", async () => {
  assert.equal(await before(pause(0).then(() => "done"), 200), "done");
  assert.equal(await before(pause(1).then(() => "done"), 200), "done");
});

Deno.test("pause() of 2^31 ms does not end early, and ends when its signal aborts", async () => {
  const stop = new AbortController();
  const paused = pause(2 ** 31, stop.signal).then(() => "ended");
  assert.equal(await before(paused, 100), TOO_LATE);
  stop.abort();
  assert.equal(await before(paused, 1_000), "ended");
});

Deno.test("pause() of Infinity waits for its signal", async () => {
  const stop = new AbortController();
  const paused = pause(Infinity, stop.signal).then(() => "ended");
  assert.equal(await before(paused, 50), TOO_LATE);
  stop.abort();
  assert.equal(await before(paused, 1_000), "ended");
});

Deno.test("pause() returns at once for an aborted signal", async () => {
  assert.equal(
    await before(pause(60_000, AbortSignal.abort()).then(() => "done"), 200),
    "done",
  );
});

Deno.test("pause() refuses a negative or NaN delay with RangeError", () => {
  assert.throws(() => pause(-5), { name: "RangeError", message: /Cannot use pause: "-5"/ });
  assert.throws(() => pause(NaN), RangeError);
});
