// The arithmetic of the minimum data rate, on the deadlines it asks of its
// connection (tests/hostile/http_responder_test.ts checks it against real
// trickling and slow-reading clients; a write's allowance only shows there
// once megabytes of socket buffers are full, too slow for a test).
import assert from "node:assert/strict";
import type { ServedConnection } from "../../lib/transport/mod.ts";
import { MinDataRate } from "./_min_data_rate.ts";

/** The deadlines asked for, in ms from when they were asked. */
function recording(): { connection: ServedConnection; asked: (number | undefined)[] } {
  const asked: (number | undefined)[] = [];
  const connection = {
    setDeadline: (ms: number | undefined) => void asked.push(ms),
  } as unknown as ServedConnection;
  return { connection, asked };
}

Deno.test("MinDataRate gives a write of n bytes the grace plus n / rate", () => {
  const { connection, asked } = recording();
  const rate = new MinDataRate(connection, 100, 500);
  rate.writing(1000);
  assert.deepEqual(asked, [10_500]);
});

Deno.test("MinDataRate moves a body's deadline by 1 / rate per byte, never past the grace", () => {
  const { connection, asked } = recording();
  const rate = new MinDataRate(connection, 1000, 5000);
  rate.startReading();
  rate.received(1); // 1 ms more, but capped at 5 s from now
  rate.received(0); // nothing new: the deadline stays where it was
  assert.equal(asked[0], 5000);
  assert.ok(asked[1]! <= 5000 && asked[1]! > 4900, String(asked[1]));
  assert.ok(asked[2]! <= asked[1]!, String(asked[2]));
  // A burst buys no more than the grace.
  rate.received(1_000_000);
  assert.ok(asked[3]! <= 5000, String(asked[3]));
});

Deno.test("MinDataRate credits bytes of a body that fell behind", async () => {
  const { connection, asked } = recording();
  const rate = new MinDataRate(connection, 100, 5000); // 10 ms per byte
  const started = performance.now();
  rate.startReading();
  // 200 ms with nothing: 200 ms of the 5 s are spent; 10 bytes give 100 back.
  await new Promise((resolve) => setTimeout(resolve, 200));
  rate.received(10);
  const elapsed = performance.now() - started;
  // asked = 5000 + 100 - (time between startReading and received) >= 5100 - elapsed.
  assert.ok(asked[1]! + elapsed >= 5099, `${asked[1]} ms asked after ${elapsed} ms`);
  assert.ok(asked[1]! < 5000, String(asked[1]));
});

Deno.test("MinDataRate ends a body's measure when an answer is written", () => {
  const { connection, asked } = recording();
  const rate = new MinDataRate(connection, 100, 500);
  rate.startReading();
  rate.writing(100);
  rate.received(10); // after the write started: not a body any more
  assert.deepEqual(asked, [500, 1500]);
});

Deno.test("MinDataRate stands still while nothing is measured, and at rate 0", () => {
  const { connection, asked } = recording();
  const rate = new MinDataRate(connection, 1000, 5000);
  rate.received(10); // before startReading: not a body
  rate.stop();
  const off = new MinDataRate(connection, 0, 5000);
  off.startReading();
  off.received(10);
  off.writing(10);
  assert.deepEqual(asked, [undefined]);
});
